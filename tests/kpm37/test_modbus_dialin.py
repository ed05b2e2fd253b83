"""4G/WiFi transparent meters dialling in: identified by registration packet or serial number."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from kpm37.errors import ConnectionLost
from kpm37.modbus import open_transport
from kpm37.modbus.dialin import DialInListener, parse_code
from kpm37.profile import load_profile
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.dialout import dial_in
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.rs485 import BusTiming

T = TypeVar("T")
PROFILE = load_profile("kpm37")
VOLTAGE_A = PROFILE.register("voltage_a").address
FAST = BusTiming(115200, 0.001)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 30)

    return asyncio.run(bounded())


def _meter(n: int) -> SimMeter:
    return SimMeter(PROFILE, code=modbus_meter_code(7, n, 10), address=1, seed=n)


def _volts(words: list[int]) -> float:
    return float(struct.unpack(">f", struct.pack(">HH", *words))[0])


def test_meters_are_identified_by_registration_or_by_serial_number() -> None:
    async def scenario() -> None:
        seen: list[str] = []
        listener = DialInListener(registration_timeout=0.3, on_meter=seen.append)
        host, port = await listener.start()
        registered, quiet = _meter(1), _meter(2)
        _, task_a = await dial_in(registered, host, port, register=True, timing=FAST)
        quiet_gw, task_b = await dial_in(quiet, host, port, register=False, timing=FAST)
        try:
            for meter in (registered, quiet):
                transport = await listener.wait_for(meter.code, 5)
                assert 180 <= _volts(await transport.read_registers(1, VOLTAGE_A, 2)) <= 260
            assert sorted(seen) == sorted([registered.code, quiet.code])
            assert quiet_gw.log[0].address == 0x12  # it was asked for its serial number
            via_factory = open_transport("dial-in", listener=listener, code=quiet.code)
            await via_factory.write_coil(1, 1, True)
            assert quiet.relay(PROFILE.register_at("coil", 1).name)  # type: ignore[union-attr]
        finally:
            task_a.cancel()
            task_b.cancel()
            await listener.stop()

    run(scenario)


def test_a_meter_that_redials_is_reached_on_its_new_connection() -> None:
    async def scenario() -> None:
        listener = DialInListener(registration_timeout=0.3)
        host, port = await listener.start()
        meter = _meter(3)
        try:
            _, first = await dial_in(meter, host, port, timing=FAST)
            transport = await listener.wait_for(meter.code, 5)
            await transport.read_registers(1, VOLTAGE_A, 2)
            first.cancel()
            await asyncio.sleep(0.05)
            with pytest.raises(ConnectionLost):
                await transport.read_registers(1, VOLTAGE_A, 2)
            _, second = await dial_in(meter, host, port, timing=FAST)
            await listener.wait_for(meter.code, 5)
            assert len(await transport.read_registers(1, VOLTAGE_A, 2)) == 2
            second.cancel()
        finally:
            await listener.stop()

    run(scenario)


def test_unknown_meter_is_not_waited_for_forever() -> None:
    async def scenario() -> None:
        listener = DialInListener()
        await listener.start()
        try:
            with pytest.raises(ConnectionLost, match="did not dial in"):
                await listener.wait_for("3071025100001", 0.2)
        finally:
            await listener.stop()

    run(scenario)


def test_registration_packets_are_parsed_strictly() -> None:
    assert parse_code(b"3071025900027") == "3071025900027"
    assert parse_code(b"3071025900027\x00") == "3071025900027"
    assert parse_code(b"\x01\x03\x00\x30") is None
