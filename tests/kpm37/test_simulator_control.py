"""Run-time control of a running simulator: ctl verbs reach the meters, bad requests are refused.

Every test drives a real SimulatedFleet on free ports through the control server's socket,
and checks the effect where a platform would see it: over Modbus, or on the MQTT broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kpm37 import codec
from kpm37.broker import embedded_broker
from kpm37.errors import DeviceTimeout
from kpm37.modbus import ModbusTcpTransport
from kpm37.mqtt.link import MqttLink
from kpm37.profile import load_profile
from kpm37.simulator import ctl
from kpm37.simulator.codes import modbus_meter_code, mqtt_meter_code
from kpm37.simulator.control import control_request
from kpm37.simulator.fleet import SimulatedFleet

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
PROFILE = load_profile("kpm37")
FIRST, SECOND = modbus_meter_code(0, 1, 2), modbus_meter_code(0, 2, 2)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 30)

    return asyncio.run(bounded())


def fleet(**options: Any) -> AbstractAsyncContextManager[SimulatedFleet]:
    return SimulatedFleet(meters_per_gateway=2, baud=115200, control_port=0, **options)


async def ctl_run(port: int, *words: str) -> int:
    """The real ctl entry point, in a thread so the fleet's event loop keeps serving."""
    return await asyncio.to_thread(ctl.main, ["--port", str(port), *words])


async def read(transport: ModbusTcpTransport, unit: int, name: str) -> Any:
    reg = PROFILE.register(name)
    return codec.decode(reg, await transport.read_registers(unit, reg.address, reg.words))


def test_silent_on_makes_one_meter_time_out_and_off_brings_it_back() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            port = sim.control.address[1]
            transport = ModbusTcpTransport(*sim.gateways[0].address, timeout=0.5)
            try:
                assert await ctl_run(port, FIRST, "silent", "on") == 0
                with pytest.raises(DeviceTimeout):
                    await read(transport, 1, "voltage_a")
                assert 180 <= await read(transport, 2, "voltage_a") <= 260  # neighbour answers
                assert await ctl_run(port, FIRST, "silent", "off") == 0
                assert 180 <= await read(transport, 1, "voltage_a") <= 260
            finally:
                await transport.close()

    run(scenario)


def test_voltage_pins_the_load_raises_over_voltage_and_off_restores_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            port, meter = sim.control.address[1], sim.gateways[0].meters[1]
            transport = ModbusTcpTransport(*sim.gateways[0].address, timeout=1.0)
            try:
                before = await read(transport, 1, "voltage_a")
                assert await ctl_run(port, FIRST, "voltage", "265") == 0
                assert await read(transport, 1, "voltage_a") == pytest.approx(265, abs=0.01)
                assert "over_voltage" in meter.alarms()  # type: ignore[attr-defined]
                assert "alarms: over_voltage" in capsys.readouterr().out
                assert await ctl_run(port, FIRST, "voltage", "off") == 0
                assert await read(transport, 1, "voltage_a") == pytest.approx(before, abs=0.01)
                assert "over_voltage" not in meter.alarms()  # type: ignore[attr-defined]
            finally:
                await transport.close()

    run(scenario)


def test_reset_energy_and_clock_offset_show_over_modbus() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            port = sim.control.address[1]
            transport = ModbusTcpTransport(*sim.gateways[0].address, timeout=1.0)
            try:
                assert await read(transport, 2, "import_active_energy") > 1
                clock_before = await read(transport, 2, "clock")
                assert await ctl_run(port, SECOND, "reset-energy", "clock-offset", "3600") == 0
                assert await read(transport, 2, "import_active_energy") < 0.01
                shift = (await read(transport, 2, "clock") - clock_before).total_seconds()
                assert 3590 <= shift <= 3630  # generous: the CPU is shared
                assert await read(transport, 1, "import_active_energy") > 1  # only that meter
            finally:
                await transport.close()

    run(scenario)


def test_clock_drift_and_load_settings_are_reported_in_the_state() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            port = sim.control.address[1]
            reply = await control_request({"meter": FIRST, "set": {
                "clock_drift_s_per_h": 30, "current": 7.5, "power_factor": -0.5}}, port=port)
            state = reply["meter"]
            assert reply["ok"] and state["clock_drift_s_per_h"] == 30
            assert state["current_a"] == 7.5 and state["power_factor_total"] == -0.5
            assert sim.gateways[0].meters[1].clock.drift_seconds_per_hour == 30  # type: ignore[attr-defined]

    run(scenario)


def test_list_and_star_reach_every_meter_where_the_setting_applies() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            port = sim.control.address[1]
            listed = await control_request({"list": True}, port=port)
            assert [m["code"] for m in listed["meters"]] == [FIRST, SECOND]
            assert listed["meters"][1]["unit"] == 2
            assert listed["meters"][1]["gateway_address"].endswith(
                f":{sim.gateways[0].address[1]}")
            reply = await control_request({"meter": "*", "set": {"slow_ms": 40}}, port=port)
            assert [m["faults"] for m in reply["meters"]] == [{"slow_ms": 40}] * 2
            assert all(m.faults.slow_ms == 40 for m in sim.meters)

    run(scenario)


BAD_REQUESTS = [
    (b"not json\n", "request: not valid JSON"),
    (b"[1, 2]\n", "request: must be a JSON object"),
    (b'{"meter": "3071025100001", "sett": {}}\n', "sett: unknown request key"),
    (b'{"set": {"silent": true}}\n', "meter: missing"),
    (b'{"meter": 42}\n', "meter: must be a 13-character meter code"),
    (b'{"meter": "3071025199999"}\n', "meter: no simulated meter 3071025199999"),
    (b'{"meter": "3071025100001", "set": {"silent": "yes"}}\n', "silent: must be true or false"),
    (b'{"meter": "3071025100001", "set": {"slow_ms": -1}}\n', "slow_ms: must be a whole number"),
    (b'{"meter": "3071025100001", "set": {"voltage": "high"}}\n', "voltage: must be a number"),
    (b'{"meter": "3071025100001", "set": {"power_factor": 2}}\n', "power_factor: must be"),
    (b'{"meter": "3071025100001", "set": {"melted": true}}\n', "melted: unknown setting"),
    (b'{"meter": "3071025100001", "set": {}}\n', "set: must be a non-empty object"),
    (b'{"meter": "3071025100001", "set": {"reset_energy": false}}\n', "reset_energy: must be"),
    (b'{"meter": "3071025100001", "set": {"zero_messages": true}}\n',
     "zero_messages: has no effect on modbus meters"),
    (b'{"list": false}\n', "list: must be true"),
    (b'{"meter": "3071025100001", "set": {"clock_offset_s": 1e300}}\n', "clock_offset_s:"),
]


def test_bad_requests_are_refused_with_the_field_and_the_server_keeps_serving() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            reader, writer = await asyncio.open_connection(*sim.control.address)
            try:
                for line, error in BAD_REQUESTS:
                    writer.write(line)
                    reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
                    assert reply["ok"] is False and reply["error"].startswith(error), line
                # A request with one bad key changes nothing, not even its good keys.
                writer.write(b'{"meter": "3071025100001", "set": {"silent": true, "x": 1}}\n')
                assert json.loads(await reader.readline())["error"].startswith("x: unknown")
                assert not sim.meters[0].faults.silent
                writer.write(b'{"list": true}\n')
                assert json.loads(await reader.readline())["ok"] is True
            finally:
                writer.close()

    run(scenario)


def test_an_overlong_request_closes_only_that_connection() -> None:
    async def scenario() -> None:
        async with fleet() as sim:
            assert sim.control is not None
            reader, writer = await asyncio.open_connection(*sim.control.address)
            writer.write(b"x" * 100_000 + b"\n")
            reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
            assert reply["error"].startswith("request: longer than")
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed
            writer.close()
            again = await control_request({"meter": FIRST}, port=sim.control.address[1])
            assert again["ok"] and again["meter"]["code"] == FIRST

    run(scenario)


def test_silent_stops_an_mqtt_meter_publishing_until_turned_off() -> None:
    code = mqtt_meter_code(0)

    async def scenario() -> None:
        seen: list[float] = []

        def on_message(_topic: str, payload: bytes) -> None:
            if json.loads(payload).get("id") == code:
                seen.append(asyncio.get_running_loop().time())

        async with embedded_broker() as url:
            listener = MqttLink(url, on_message, client_id="ctl-test", protocol="3.1.1")
            await listener.connect()
            await listener.subscribe("MQTT_RT_DATA")
            try:
                async with fleet(mqtt_url=url, mqtt_meters=1, mqtt_interval=0.2) as sim:
                    assert sim.control is not None
                    port = sim.control.address[1]
                    await _until(lambda: len(seen) >= 2)
                    assert await ctl_run(port, code, "silent", "on") == 0
                    await asyncio.sleep(0.5)  # what was already on its way arrives
                    quiet_from = len(seen)
                    await asyncio.sleep(1.5)
                    assert len(seen) == quiet_from
                    assert await ctl_run(port, code, "silent", "off") == 0
                    await _until(lambda: len(seen) > quiet_from)
            finally:
                await listener.close()

    run(scenario)


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.05)


def _ctl_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpm37.simulator.ctl", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, env=env)


def test_ctl_help_documents_every_verb() -> None:
    result = _ctl_cli("--help")
    assert result.returncode == 0
    for verb in ("list", "silent", "corrupt-crc", "wrong-unit", "slow", "duplicate-messages",
                 "zero-messages", "voltage", "current", "power-factor", "reset-energy",
                 "clock-offset", "clock-drift", "FLEET_SIM_CONTROL_PORT"):
        assert verb in result.stdout, verb


@pytest.mark.parametrize(("words", "reason"), [
    (("3071025100001", "silent", "maybe"), "silent: 'maybe' is not on or off"),
    (("3071025100001", "voltage"), "voltage: needs a value"),
    (("3071025100001", "voltage", "lots"), "voltage: 'lots' is not a number or off"),
    (("3071025100001", "slow", "off"), "slow: 'off' is not a whole number"),
    (("3071025100001", "explode", "1"), "explode: unknown verb"),
])
def test_ctl_usage_errors_are_clear_without_traceback(words: tuple[str, ...],
                                                      reason: str) -> None:
    result = _ctl_cli(*words)
    assert result.returncode == 2
    assert reason in result.stderr and "Traceback" not in result.stderr


def test_ctl_without_a_server_says_how_to_get_one() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    result = _ctl_cli("list", env={**os.environ, "FLEET_SIM_CONTROL_PORT": str(free)})
    assert result.returncode == 1
    assert f"127.0.0.1:{free}" in result.stderr and "--control-port" in result.stderr
    assert "Traceback" not in result.stderr
    bad = _ctl_cli("list", env={**os.environ, "FLEET_SIM_CONTROL_PORT": "http"})
    assert bad.returncode == 2 and "FLEET_SIM_CONTROL_PORT='http'" in bad.stderr


def test_simulator_command_line_serves_control_to_ctl_through_the_env_port() -> None:
    sim = subprocess.Popen(
        [sys.executable, "-m", "kpm37.simulator", "--meters-per-gateway", "2",
         "--modbus-port-base", "0", "--control-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        lines = [sim.stdout.readline() for _ in range(2)]
        assert lines[1].startswith("control listening on 127.0.0.1:"), lines
        port = lines[1].split()[3].split(":")[1]
        env = {**os.environ, "FLEET_SIM_CONTROL_PORT": port}
        result = _ctl_cli(FIRST, "wrong-unit", "on", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(FIRST) and "faults: wrong_unit" in result.stdout
        refused = _ctl_cli(FIRST, "silent", "on", "zero-messages", "on", env=env)
        assert refused.returncode == 1
        assert "zero_messages: has no effect on modbus meters" in refused.stderr
        listed = _ctl_cli("list", env=env)
        assert listed.stdout.splitlines()[0].count("faults: wrong_unit") == 1
        assert "faults: none" in listed.stdout.splitlines()[1]
    finally:
        sim.terminate()
        sim.wait(timeout=10)
