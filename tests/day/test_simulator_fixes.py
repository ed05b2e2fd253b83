"""Simulator fixes the operator's hour ran into: ``voltage off`` gives the earlier current back,
and ``zero-messages on`` sends all-zero messages that ingest refuses as all zero."""

from __future__ import annotations

import asyncio
import json

import pytest

from kpm37.profile import load_profile
from kpm37.simulator.codes import mqtt_meter_code
from kpm37.simulator.control_settings import Controlled, apply_settings
from kpm37.simulator.fleet import SimulatedFleet
from kpm37.simulator.meter import SimMeter
from meters.telemetry.batching import PacketBatcher
from meters.telemetry.choices import DeadLetterKind
from tests.factories import MeterFactory
from tests.services import mosquitto_url


def test_voltage_off_gives_back_the_current_that_followed_the_time_of_day() -> None:
    meter = SimMeter(load_profile("kpm37"), code="3071025100001", address=1, seed=1)
    entry = Controlled(meter, "modbus", {})
    before = meter.quantities()["current_a"]
    assert not meter.pinned
    apply_settings(entry, {"voltage": 265.0})
    assert meter.pinned and meter.quantities()["voltage_a"] == pytest.approx(265.0)
    apply_settings(entry, {"voltage": None})
    assert not meter.pinned
    assert meter.quantities()["current_a"] == pytest.approx(before, rel=1e-3)
    apply_settings(entry, {"voltage": 250.0, "current": 7.0})
    apply_settings(entry, {"voltage": None})  # the current is still overridden: stays pinned
    assert meter.pinned and meter.quantities()["current_a"] == pytest.approx(7.0)


@pytest.mark.services
@pytest.mark.django_db
def test_zero_messages_are_refused_as_all_zero_not_as_duplicates() -> None:
    url = mosquitto_url()
    host, port = url.removeprefix("mqtt://").split(":")
    code = mqtt_meter_code(0)

    async def scenario() -> list[bytes]:
        sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", host, "-p", port, "-t", "MQTT_RT_DATA", "-W", "20",
            stdout=asyncio.subprocess.PIPE)
        assert sub.stdout is not None
        lines: list[bytes] = []
        try:
            await asyncio.sleep(0.3)
            # 3 s apart: the meter stamps whole seconds, and the zero message takes the next one
            async with SimulatedFleet(mqtt_url=url, mqtt_meters=1, mqtt_interval=3) as sim:
                sim.mqtt_meters[0].faults.zero_messages = True  # type: ignore[attr-defined]
                while sum(b'"isend":"1"' in line for line in lines) < 4:
                    line = await asyncio.wait_for(sub.stdout.readline(), 20)
                    assert line, "no MQTT_RT_DATA from the simulated meter"
                    if json.loads(line).get("id") == code:
                        lines.append(line.strip())
        finally:
            sub.terminate()
            await sub.wait()
        return lines

    lines = asyncio.run(asyncio.wait_for(scenario(), 40))
    MeterFactory(mqtt=True, code=code)
    batcher = PacketBatcher()
    for n, payload in enumerate(lines):
        batcher.feed("MQTT_RT_DATA", payload, token=n)
    result, _ = batcher.commit(flush=True)
    assert result.dead[DeadLetterKind.ALL_ZERO] >= 1
    assert result.stored >= 1 and result.duplicates == 0
