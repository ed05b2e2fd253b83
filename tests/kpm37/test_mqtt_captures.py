"""Every real KPM33B capture parses; their quirks are handled as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpm37.mqtt.protocol import Reassembler, parse_message
from kpm37.profile import load_profile
from tests.conformance.facts import facts

CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures"
MAPPING = {"MQTT_ENY_NOW": {"zygsz": "import_active_energy"},
           "MQTT_RT_DATA": {"uxja": "angle_voltage_a"}}


def lines(name: str) -> list[bytes]:
    return [ln for ln in (CAPTURES / name).read_bytes().splitlines() if ln.strip()]


def topic_of(name: str) -> str:
    return "MQTT_ENY_NOW" if "ENY_NOW" in name else "MQTT_RT_DATA"


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("kpm33b_*")), ids=lambda p: p.name)
def test_every_capture_parses(path: Path) -> None:
    for raw in lines(path.name):
        msg = parse_message(raw, topic_of(path.name), MAPPING)
        assert msg.meter_code.startswith("33B12259500")
        assert msg.is_last_packet
        assert msg.quantities or msg.unknown


def test_lower_case_and_undocumented_tags_are_kept() -> None:
    [raw] = lines("kpm33b_MQTT_RT_DATA.json")
    msg = parse_message(raw, "MQTT_RT_DATA", MAPPING)
    assert msg.quantities == {"angle_voltage_a": 0.0}
    assert msg.unknown["iadm"] == pytest.approx(9.6838)
    assert msg.unknown["zyggl"] == pytest.approx(6.6905)


def test_log_quirks_zero_messages_repeats_and_old_clocks() -> None:
    msgs = [parse_message(raw, "MQTT_ENY_NOW", MAPPING)
            for raw in lines("kpm33b_MQTT_ENY_NOW_20260117-2020.log")]
    assert len(msgs) == 10
    assert sum(m.is_all_zero for m in msgs) == 5
    keys = [(m.meter_code, m.time) for m in msgs]
    assert len(set(keys)) < len(keys)  # the same (id, time) arrives more than once
    assert min(m.time.year for m in msgs) == 2005  # an unset clock
    r = Reassembler()
    emitted = [out for m in msgs for out in r.feed(m, now=0)]
    assert len(emitted) == 10 and len(r) == 0  # isend "1": one packet, one message


@pytest.mark.parametrize("profile", ["kpm33b", "kpm37"])
@pytest.mark.parametrize("path", sorted(CAPTURES.glob("kpm33b_*")), ids=lambda p: p.name)
def test_every_tag_of_every_capture_is_accounted_for(profile: str, path: Path) -> None:
    """Each tag the real meters sent maps to a quantity through the profile, and has its row
    (source, unit, what we assumed) in the conformance table; nothing is left unknown."""
    prof = load_profile(profile)
    topic = topic_of(path.name)
    rows = {f.name for f in facts("tag") if f.where == topic}
    for raw in lines(path.name):
        msg = parse_message(raw, topic, prof.mqtt)
        assert msg.unknown == {}, msg.unknown
        sent = {k.lower() for k in json.loads(raw)} - {"id", "time", "isend"}
        assert sent <= rows, sent - rows
        assert set(msg.quantities) == {prof.mqtt[topic][tag] for tag in sent}
