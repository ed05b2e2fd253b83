"""Reassembly of split V1.9 packets keyed by (meter, topic, time)."""

from __future__ import annotations

import json

import pytest

from kpm37.mqtt.protocol import MqttMessage, Reassembler, parse_message

CODE = "30712A0000027"


def pkt(time: str, isend: str | None, code: str = CODE, **tags: float) -> MqttMessage:
    body: dict[str, object] = {"id": code, "time": time, **tags}
    if isend is not None:
        body["isend"] = isend
    return parse_message(json.dumps(body), "MQTT_ENY_NOW")


def test_packets_are_merged_until_isend() -> None:
    r = Reassembler()
    assert r.feed(pkt("20260101000000", "0", a=1), now=0) == []
    assert r.feed(pkt("20260101000000", "0", b=2), now=0.1) == []
    [done] = r.feed(pkt("20260101000000", "1", c=3), now=0.2)
    assert done.unknown == {"a": 1, "b": 2, "c": 3}
    assert len(done.raw) == 3 and len(r) == 0


def test_new_time_completes_the_previous_message() -> None:
    r = Reassembler()
    r.feed(pkt("20260101000000", None, a=1), now=0)
    [done] = r.feed(pkt("20260101000100", None, a=2), now=1)
    assert done.time.minute == 0 and done.unknown == {"a": 1}
    assert len(r) == 1


def test_other_meters_do_not_interfere() -> None:
    r = Reassembler()
    r.feed(pkt("20260101000000", "0", a=1), now=0)
    r.feed(pkt("20260101000500", "0", code="30712A0000028", a=9), now=0)
    [done] = r.feed(pkt("20260101000000", "1", b=2), now=0)
    assert done.meter_code == CODE and done.unknown == {"a": 1, "b": 2}


def test_quiet_timeout_emits_partial_message() -> None:
    r = Reassembler(quiet_timeout_s=2.0)
    r.feed(pkt("20260101000000", "0", a=1), now=10)
    assert r.poll(now=11.5) == []
    [done] = r.poll(now=12.1)
    assert done.unknown == {"a": 1}


def test_memory_is_bounded() -> None:
    r = Reassembler(max_pending=3, max_fields=2)
    emitted = []
    for i in range(10):
        emitted += r.feed(pkt("20260101000000", "0", code=f"30712A00000{i:02d}", a=i), now=i)
    assert len(r) == 3 and len(emitted) == 7
    r.feed(pkt("20260101000000", "0", code="30712A0000009", b=1, c=2), now=20)
    [last] = [m for m in r.flush() if m.meter_code == "30712A0000009"]
    assert len(last.unknown) == 2


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Reassembler(max_pending=0)
