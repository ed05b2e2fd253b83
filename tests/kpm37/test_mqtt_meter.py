"""Commander <-> simulated MQTT meters through the embedded amqtt broker on a free port.

Helpers shared with the other MQTT tests live in mqtt_helpers.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from kpm37.broker import embedded_broker
from kpm37.errors import DeviceTimeout, ProtocolError, WriteRefused
from kpm37.mqtt import commands
from kpm37.mqtt.client import MqttCommander
from kpm37.mqtt.link import MqttLink
from kpm37.mqtt.protocol import MqttMessage, Reassembler, parse_message
from kpm37.mqtt.transport import MqttTransport
from kpm37.simulator.meter import SimMeter
from tests.kpm37.mqtt_helpers import PROFILE, ManualUtc, make_meter, run, running, unique_code


class Listener:
    """A plain subscriber that keeps every (topic, payload) it receives."""

    def __init__(self, url: str, protocol: str = "3.1.1") -> None:
        self.received: list[tuple[str, bytes]] = []
        self._changed = asyncio.Event()
        self.link = MqttLink(url, self._on_message, protocol=protocol)

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.received.append((topic, payload))
        self._changed.set()

    async def __aenter__(self) -> Listener:
        await self.link.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.link.close()

    async def wait_until(self, done: Callable[[], bool], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                self._changed.clear()
                await self._changed.wait()

    def messages(self, topic: str, code: str) -> list[MqttMessage]:
        out = [parse_message(p, t, PROFILE.mqtt) for t, p in self.received if t == topic]
        return [m for m in out if m.meter_code == code]


def freeze_a_month(meter: SimMeter, utc: ManualUtc) -> tuple[int, int]:
    """Move the meter's clock past a billing day and return the month it froze."""
    meter.set_load(current=20.0)
    utc.now += timedelta(days=40)
    meter.tick()
    kept = [(y, m) for y in (2026,) for m in range(1, 13) if meter.frozen_month(y, m)]
    assert kept, "the simulated meter froze no month"
    return kept[-1]


# --- tests ---------------------------------------------------------------------------------


def test_relay_time_and_registers_round_trip_over_amqtt() -> None:
    async def scenario() -> None:
        utc = ManualUtc()
        meter = make_meter(utc)
        code = meter.code
        async with (embedded_broker() as url, running([meter], url, interval_override_s=30),
                    MqttCommander(url, mapping=PROFILE.mqtt, timeout_s=5) as cmd):
            assert cmd.link.protocol == "3.1.1"  # amqtt refused MQTT 5, auto fell back
            await cmd.set_relay(code, 1, True)
            await cmd.set_relay(code, 2, True)
            await cmd.set_relay(code, 1, False)
            assert meter.read_coils(1, 2) == [False, True]
            await cmd.write_registers(code, 0x0000, [6666, 7])  # password in the same frame
            assert meter.parameter("modbus_address") == 7
            assert await cmd.read_registers(code, 0x0001, 1) == [7.0]
            with pytest.raises(WriteRefused, match="code 02"):
                await cmd.write_registers(code, 0x0000, [1234, 9])
            assert meter.parameter("modbus_address") == 7
            volts = await cmd.read_registers(code, 0x0030, 3, commands.FLOAT_TYPE)
            expected = [meter.quantities()[f"voltage_{p}"] for p in "abc"]
            assert volts == pytest.approx(expected, rel=1e-5)
            await cmd.set_time(code, datetime(2026, 5, 1, 8, 30))
            assert meter.clock.now_local() == datetime(2026, 5, 1, 8, 30)

    run(scenario())


def test_intervals_recall_reconfig_and_broker_settings_round_trip() -> None:
    async def scenario() -> None:
        utc = ManualUtc()
        meter = make_meter(utc)
        year, month = freeze_a_month(meter, utc)
        code = meter.code
        async with (embedded_broker() as url,
                    running([meter], url, interval_override_s=30) as [session],
                    MqttCommander(url, mapping=PROFILE.mqtt, timeout_s=5) as cmd):
            await cmd.set_upload_interval(code, "second", 60)
            await cmd.set_upload_interval(code, "minute", 15)
            assert await cmd.read_upload_interval(code, "second") == 60
            assert await cmd.read_upload_interval(code, "minute") == 15
            assert meter.parameter("second_upload_seconds") == 60  # the Modbus view agrees
            recalled = await cmd.recall_month(code, year, month)
            frozen = meter.frozen_month(year, month)
            assert frozen is not None and recalled
            assert recalled == pytest.approx({n: frozen[n] for n in recalled}, abs=1e-3)
            assert recalled["import_active_energy"] > 0
            with pytest.raises(WriteRefused, match="no frozen data"):
                await cmd.recall_month(code, 2001, 1)
            await cmd.reconfig(code)
            assert session.side.reconfigured == 1
            cmd.set_broker(code, ["10.0.0.2", "1883", "meter", "pw"])
            async with asyncio.timeout(5):
                while session.side.broker_info is None:
                    await asyncio.sleep(0.05)
            assert session.side.broker_info == "10.0.0.2;1883;meter;pw"

    run(scenario())


def test_short_oprid_gets_no_answer_and_a_device_timeout() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())
        async with (embedded_broker() as url, running([meter], url, interval_override_s=30),
                    MqttCommander(url, timeout_s=1.0) as cmd):
            with pytest.raises(DeviceTimeout, match="no reply"):
                await cmd.send(commands.telectrl(meter.code, 1, True, oprid="x" * 31))
            assert meter.read_coils(1, 1) == [False]  # and nothing was switched
            await cmd.set_relay(meter.code, 1, True)  # a proper oprid is answered
            assert meter.read_coils(1, 1) == [True]

    run(scenario())


def test_transport_chunks_registers_and_drives_relays() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())
        async with (embedded_broker() as url, running([meter], url, interval_override_s=30),
                    MqttCommander(url, timeout_s=5) as cmd):
            transport = MqttTransport(cmd, {1: meter.code})
            words = await transport.read_registers(1, 0x0068, 150)  # two SYS_READs
            assert words == meter.read_registers(0x0068, 100) + meter.read_registers(0x00CC, 50)
            await transport.write_registers(1, 0x0000, [6666, 12])
            assert await transport.read_registers(1, 0x0001, 1) == [12]
            await transport.write_coil(1, 2, True)
            assert await transport.read_coils(1, 1, 2) == [False, True]
            assert meter.read_coils(1, 2) == [False, True]

    run(scenario())


def test_split_packets_reassemble_to_whole_messages() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())
        async with embedded_broker() as url, Listener(url) as listener:
            await listener.link.subscribe("MQTT_RT_DATA", "MQTT_ENY_NOW")
            async with running([meter], url, split_packets=True, interval_override_s=30):
                await listener.wait_until(lambda: len(listener.received) >= 20)
        counts = {"MQTT_RT_DATA": 9, "MQTT_ENY_NOW": 11}
        for topic, packets in counts.items():
            parts = listener.messages(topic, meter.code)
            assert len(parts) == packets
            assert [p.isend for p in parts] == ["0"] * (packets - 1) + ["1"]
            r = Reassembler()
            [whole] = [m for p in parts for m in r.feed(p)]
            assert set(whole.quantities) == set(PROFILE.mqtt[topic].values()) & set(
                meter.quantities())
            assert len(whole.raw) == packets

    run(scenario())


def test_faults_duplicate_zero_and_silent() -> None:
    async def scenario() -> None:
        noisy, silent = make_meter(ManualUtc()), make_meter(ManualUtc())
        noisy.faults.duplicate_messages = True
        noisy.faults.zero_messages = True
        silent.faults.silent = True
        async with embedded_broker() as url, Listener(url) as listener:
            await listener.link.subscribe("MQTT_ENY_NOW")
            async with (running([noisy, silent], url, interval_override_s=30),
                        MqttCommander(url, timeout_s=1.0) as cmd):
                await listener.wait_until(lambda: len(listener.received) >= 3)
                with pytest.raises(DeviceTimeout):
                    await cmd.set_relay(silent.code, 1, True)
        got = listener.messages("MQTT_ENY_NOW", noisy.code)
        assert [m.is_all_zero for m in got[:3]] == [False, True, False]
        assert got[0].quantities == got[2].quantities and got[0].time == got[2].time
        assert listener.messages("MQTT_ENY_NOW", silent.code) == []

    run(scenario())


def test_day_data_after_local_midnight() -> None:
    async def scenario() -> None:
        utc = ManualUtc()
        meter = make_meter(utc)
        meter.clock.set_local(datetime(2026, 3, 10, 23, 59, 50))
        async with embedded_broker() as url, Listener(url) as listener:
            await listener.link.subscribe("MQTT_DAY_DATA")
            async with running([meter], url, interval_override_s=30):
                await asyncio.sleep(0.3)
                utc.now += timedelta(seconds=20)
                await listener.wait_until(lambda: bool(listener.received))
        [day] = listener.messages("MQTT_DAY_DATA", meter.code)
        assert day.time == datetime(2026, 3, 11, 0, 0, 0)
        assert "import_active_energy" in day.quantities

    run(scenario())


def test_telectrl_refusal_carries_the_meter_message() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())
        meter.set_parameter("do1_control_mode", 1)  # alarm mode: remote switching refused
        async with (embedded_broker() as url, running([meter], url, interval_override_s=30),
                    MqttCommander(url, timeout_s=5) as cmd):
            with pytest.raises(WriteRefused, match="refused"):
                await cmd.set_relay(meter.code, 1, True)

    run(scenario())


def test_reply_payloads_are_v19_json() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())
        async with embedded_broker() as url, Listener(url) as listener:
            await listener.link.subscribe("MQTT_TELECTRL_REP", "MQTT_TELEIND")
            async with (running([meter], url, interval_override_s=30),
                        MqttCommander(url, timeout_s=5) as cmd):
                command = commands.telectrl(meter.code, 2, True)
                await cmd.send(command)
                await listener.wait_until(lambda: len(listener.received) >= 2)
        topics = {t: json.loads(p) for t, p in listener.received}
        assert topics["MQTT_TELECTRL_REP"] == {"id": meter.code, "oprid": command.oprid,
                                               "code": "01", "do2": "1"}
        assert topics["MQTT_TELEIND"]["value"] == "00000000@00000002"

    run(scenario())


def test_speed_scales_the_meter_upload_intervals() -> None:
    async def scenario() -> None:
        meter = make_meter(ManualUtc())  # 30 s second-level, 5 min minute-level by default
        async with embedded_broker() as url, Listener(url) as listener:
            await listener.link.subscribe("MQTT_RT_DATA", "MQTT_ENY_NOW")
            async with running([meter], url, speed=60.0):  # 30 s -> 0.5 s, 5 min -> 5 s
                await asyncio.sleep(1.8)
        rt = listener.messages("MQTT_RT_DATA", meter.code)
        eny = listener.messages("MQTT_ENY_NOW", meter.code)
        assert 2 <= len(rt) <= 6 and len(eny) == 1

    run(scenario())


def test_bad_inputs_name_the_field() -> None:
    for url in ("http://x", "mqtt://", "mqtt://host:99999"):
        with pytest.raises(ValueError, match="url"):
            MqttCommander(url)
    with pytest.raises(ValueError, match="protocol"):
        MqttCommander("mqtt://127.0.0.1", protocol="4")

    async def scenario() -> None:
        async with embedded_broker() as url, MqttCommander(url, timeout_s=1) as cmd:
            transport = MqttTransport(cmd, {1: unique_code()})
            with pytest.raises(ValueError, match="unit"):
                await transport.read_registers(2, 0, 1)
            with pytest.raises(ValueError, match="address"):
                await transport.write_coil(1, 3, True)
            with pytest.raises(ProtocolError, match="relay state unknown"):
                await transport.read_coils(1, 1, 1)

    run(scenario())
