"""Every MQTT tag row against a simulated meter publishing to the real Mosquitto, and the
RECALL reply (V1.9 §4.6) as the platform's recall collects it.

The meter's clock is moved by hand, so its values hold still while they are compared: the
real-time and minute messages at one moment, then past midnight on 2 April (DAY_DATA, V1.9
§4.3) after the monthly freeze on 1 April that RECALL answers.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kpm37.mqtt.client import MqttCommander
from kpm37.mqtt.link import MqttLink
from kpm37.profile import load_profile
from kpm37.quantities import QUANTITIES, unit_factor
from kpm37.simulator.clock import SimClock
from kpm37.simulator.meter import SimMeter
from tests.conformance.facts import facts
from tests.kpm37.mqtt_helpers import ManualUtc, running
from tests.services import mosquitto_url

pytestmark = pytest.mark.services
TOPICS = ("MQTT_RT_DATA", "MQTT_ENY_NOW", "MQTT_DAY_DATA", "MQTT_RECALL_REP")


def new_meter(profile: str, utc: ManualUtc) -> SimMeter:
    model = "33B12269" if profile == "kpm33b" else "30712269"
    code = f"{model}{random.randrange(100_000):05d}"
    meter = SimMeter(load_profile(profile), code=code, address=1, clock=SimClock(utc_source=utc))
    meter.set_load(voltage=231.0, current=12.0, power_factor=0.93)
    return meter


class Heard:
    """Every payload a subscriber heard from one meter, by topic."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.by_topic: dict[str, list[dict[str, Any]]] = {t: [] for t in TOPICS}

    def __call__(self, topic: str, payload: bytes) -> None:
        data = json.loads(payload)
        if data.get("id") == self.code:
            self.by_topic[topic].append(data)

    async def wait(self, ready: Callable[[], bool]) -> None:
        async with asyncio.timeout(20):
            while not ready():
                await asyncio.sleep(0.05)


def mismatches(topic: str, message: dict[str, Any], values: dict[str, float],
               profile: str) -> list[str]:
    wrong = []
    for fact in facts("tag"):
        if fact.where != topic or profile not in fact.profiles:
            continue
        quantity = QUANTITIES[fact.expected]
        want = values.get(fact.expected, 0.0) / unit_factor(fact.unit, quantity.unit)
        got = message.get(fact.name)
        if not isinstance(got, int | float) or got != pytest.approx(want, rel=1e-6, abs=2e-3):
            wrong.append(f"{fact.label}: sent {got!r}, meter holds {want!r} {fact.unit}")
    return wrong


async def scenario(profile: str) -> list[str]:
    url, utc = mosquitto_url(), ManualUtc()
    meter = new_meter(profile, utc)
    heard = Heard(meter.code)
    listener = MqttLink(url, heard, client_id=f"conformance-{meter.code}")
    await listener.connect()
    await listener.subscribe(*TOPICS)
    wrong: list[str] = []
    try:
        async with running([meter], url, interval_override_s=0.3):
            await heard.wait(lambda: all(heard.by_topic[t] for t in TOPICS[:2]))
            now = meter.quantities()
            for topic in TOPICS[:2]:
                wrong += mismatches(topic, heard.by_topic[topic][0], now, profile)
            utc.now = datetime(2026, 4, 2, 0, 0, 5, tzinfo=UTC)
            await heard.wait(lambda: bool(heard.by_topic["MQTT_DAY_DATA"]))
            wrong += mismatches("MQTT_DAY_DATA", heard.by_topic["MQTT_DAY_DATA"][0],
                                meter.quantities(), profile)
            async with MqttCommander(url, profile=meter.profile, timeout_s=10) as commander:
                tags = await commander.recall_month_tags(meter.code, 2026, 4)
                frozen = meter.frozen_month(2026, 4)
                assert frozen is not None
                wrong += mismatches("MQTT_RECALL_REP", tags, frozen, profile)
                collected = await commander.recall_month(meter.code, 2026, 4)
                assert collected["import_active_energy_r2"] == pytest.approx(
                    frozen["import_active_energy_r2"], rel=1e-6)
            await heard.wait(lambda: len(heard.by_topic["MQTT_RECALL_REP"]) >= 8)
            wrong += recall_layout_errors(heard.by_topic["MQTT_RECALL_REP"][:4])
    finally:
        await listener.close()
    return wrong


def recall_layout_errors(packets: list[dict[str, Any]]) -> list[str]:
    """V1.9 §4.6: a first packet with oprid, code, msg; data packets with id, frz_type, the
    §4.6 tags and time yyyyMM, only the last with isend "1"."""
    layout = [{"id", "oprid", "code", "msg", "frz_type", "time", "isend"},
              {"id", "frz_type", "zygdd", "fygdd", "zwgdd", "fwgdd", "time", "isend"},
              {"id", "frz_type", "zyjdd", "fyjdd", "zyfdd", "fyfdd", "time", "isend"},
              {"id", "frz_type", "zypdd", "fypdd", "zyvdd", "fyvdd", "time", "isend"}]
    wrong = [f"recall packet {n + 1}: {sorted(p)}" for n, (p, keys) in
             enumerate(zip(packets, layout, strict=True)) if set(p) != keys]
    if [p["time"] for p in packets] != ["202604"] * 4 or {p["frz_type"] for p in packets} != {"2"}:
        wrong.append(f"recall time/frz_type: {[(p['time'], p['frz_type']) for p in packets]}")
    if [p["isend"] for p in packets] != ["0", "0", "0", "1"]:
        wrong.append(f"recall isend: {[p['isend'] for p in packets]}")
    return wrong


@pytest.mark.parametrize("profile", ["kpm33b", "kpm37"])
def test_every_tag_row_from_a_simulated_meter_over_mosquitto(profile: str) -> None:
    wrong = asyncio.run(asyncio.wait_for(scenario(profile), 90))
    assert wrong == []
