"""The fleet's MQTT meters publish to the real Mosquitto when an MQTT URL is given."""

from __future__ import annotations

import asyncio
import json

import pytest

from kpm37.simulator.codes import mqtt_meter_code
from kpm37.simulator.fleet import SimulatedFleet
from tests.services import mosquitto_url


@pytest.mark.services
def test_mqtt_meters_publish_real_time_data() -> None:
    url = mosquitto_url()
    host, port = url.removeprefix("mqtt://").split(":")
    wanted = mqtt_meter_code(0)

    async def scenario() -> dict[str, object]:
        sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", host, "-p", port, "-t", "MQTT_RT_DATA", "-W", "15",
            stdout=asyncio.subprocess.PIPE,
        )
        assert sub.stdout is not None
        try:
            await asyncio.sleep(0.3)  # let the subscription settle before anything publishes
            async with SimulatedFleet(mqtt_url=url, mqtt_meters=1, mqtt_interval=0.5):
                while True:
                    line = await asyncio.wait_for(sub.stdout.readline(), 15)
                    assert line, "no MQTT_RT_DATA from the simulated meter"
                    payload: dict[str, object] = json.loads(line)
                    if payload.get("id") == wanted:
                        return payload
        finally:
            sub.terminate()
            await sub.wait()

    payload = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert 180 <= float(payload["ua"]) <= 260  # type: ignore[arg-type]
