"""The MQTT side against the real Mosquitto on 127.0.0.1:1883, over MQTT 5 and 3.1.1.

Skips when Mosquitto is down, fails instead under FLEET_REQUIRE_SERVICES=1. V1.9 topic names
are fixed, so every meter here has a random code and every check filters on it.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from kpm37.mqtt.client import MqttCommander
from kpm37.simulator.mqtt_meter import serve_mqtt_meters
from tests.kpm37.mqtt_helpers import PROFILE, ManualUtc, make_meter, run, running
from tests.services import mosquitto_url, require_tool

pytestmark = pytest.mark.services


@pytest.mark.parametrize(("commander", "meter"), [("5", "3.1.1"), ("3.1.1", "5"), ("auto", "5")])
def test_commands_round_trip_over_mosquitto(commander: str, meter: str) -> None:
    url = mosquitto_url()

    async def scenario() -> None:
        sim = make_meter(ManualUtc())
        async with (running([sim], url, protocol=meter, interval_override_s=30) as [session],
                    MqttCommander(url, mapping=PROFILE.mqtt, protocol=commander,
                                  timeout_s=5) as cmd):
            assert cmd.link.protocol == ("5" if commander == "auto" else commander)
            assert session.link.protocol == meter
            await cmd.set_relay(sim.code, 1, True)
            assert sim.read_coils(1, 1) == [True]
            await cmd.write_registers(sim.code, 0x0000, [6666, 33])
            assert await cmd.read_registers(sim.code, 0x0001, 1) == [33.0]
            await cmd.set_upload_interval(sim.code, "minute", 30)
            assert await cmd.read_upload_interval(sim.code, "minute") == 30

    run(scenario())


def test_mosquitto_sub_sees_v19_payloads_from_a_simulated_meter() -> None:
    url = mosquitto_url()
    require_tool("mosquitto_sub")
    host, port = url.removeprefix("mqtt://").split(":")

    async def scenario() -> None:
        sim = make_meter(ManualUtc())
        # The meter publishes every 0.5 s from before the subscriber starts, so no
        # handshake is needed (mosquitto_sub buffers its -d output when piped).
        serving = asyncio.create_task(serve_mqtt_meters([sim], url, interval_override_s=0.5))
        sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", host, "-p", port, "-t", "MQTT_RT_DATA", "-W", "30",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        assert sub.stdout is not None
        payload = None
        try:
            async with asyncio.timeout(20):
                while payload is None:
                    line = (await sub.stdout.readline()).decode().strip()
                    if line.startswith("{") and sim.code in line:
                        payload = json.loads(line)
        finally:
            sub.kill()
            await sub.wait()
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
        assert payload["id"] == sim.code
        assert len(payload["time"]) == 14 and payload["time"].isdigit()
        assert payload["isend"] == "1"
        assert payload["ua"] == pytest.approx(sim.quantities()["voltage_a"], abs=1e-3)

    run(scenario())


def test_recall_data_packets_without_oprid_reach_the_right_recall() -> None:
    """V1.9 §4.6: only the first reply packet carries the oprid. Two meters and two months
    recalled at once: each data packet is matched by meter id and month, none mixed up."""
    url = mosquitto_url()

    async def scenario() -> None:
        utc = ManualUtc()
        sims = [make_meter(utc), make_meter(utc)]
        for n, sim in enumerate(sims):
            sim.set_load(current=5.0 + 10 * n)
        utc.now = utc.now.replace(month=6, day=10)  # freezes on 1 April, 1 May and 1 June
        async with (running(sims, url, interval_override_s=30),
                    MqttCommander(url, profile=PROFILE, timeout_s=10) as cmd):
            asks = [(sim, month) for sim in sims for month in (4, 5)]
            got = await asyncio.gather(*(cmd.recall_month(sim.code, 2026, month)
                                         for sim, month in asks))
        for (sim, month), values in zip(asks, got, strict=True):
            frozen = sim.frozen_month(2026, month)
            assert frozen is not None
            assert values["import_active_energy"] == pytest.approx(
                frozen["import_active_energy"], rel=1e-6)
            assert values["export_active_energy_r4"] == pytest.approx(
                frozen["export_active_energy_r4"], abs=1e-3)
        assert got[0]["import_active_energy"] != got[2]["import_active_energy"]

    run(scenario())
