"""Our master against our simulated gateway on real sockets: data, faults, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from kpm37.errors import (
    ConnectionLost,
    CrcError,
    DeviceTimeout,
    ModbusExceptionResponse,
    WrongUnit,
)
from kpm37.modbus import ModbusMaster, open_transport
from kpm37.simulator.bank import RegisterBank
from kpm37.simulator.gateway import SimGateway, start_gateway

T = TypeVar("T")
FAST = 115200  # keeps bus time short; timing itself is tested elsewhere


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 20)

    return asyncio.run(bounded())


Setup = tuple[SimGateway, ModbusMaster, list[RegisterBank]]


async def _gateway(framer: str, drop_every: int | None = None) -> Setup:
    banks = [RegisterBank(a) for a in (1, 2, 3)]
    host, port, gateway = await start_gateway(
        banks, framer=framer, baud=FAST, drop_every=drop_every
    )
    kind = "modbus-tcp" if framer == "socket" else "rtu-over-tcp"
    master = open_transport(kind, host=host, port=port, timeout=0.3)
    assert isinstance(master, ModbusMaster)
    return gateway, master, banks


@pytest.mark.parametrize("framer", ["socket", "rtu"])
def test_reads_writes_and_coils(framer: str) -> None:
    async def scenario() -> None:
        gateway, master, banks = await _gateway(framer)
        try:
            await master.write_registers(2, 0x30, [0x4366, 0x0000])
            assert await master.read_registers(2, 0x30, 2) == [0x4366, 0]
            assert banks[1].writes == [(0x30, [0x4366, 0])]
            await master.write_coil(3, 1, True)
            assert await master.read_coils(3, 0, 3) == [False, True, False]
            assert [r.unit for r in gateway.log] == [2, 2, 3, 3]
        finally:
            await master.close()
            await gateway.stop()

    run(scenario)


@pytest.mark.parametrize("framer", ["socket", "rtu"])
def test_faults_are_typed_and_the_link_recovers(framer: str) -> None:
    async def scenario() -> None:
        gateway, master, banks = await _gateway(framer)
        try:
            with pytest.raises(ModbusExceptionResponse) as info:
                await master.read_registers(1, 0x3FF, 2)
            assert info.value.code == 2
            banks[0].faults.silent = True
            with pytest.raises(DeviceTimeout, match="unit 1"):
                await master.read_registers(1, 0, 1)
            banks[1].faults.wrong_unit = True
            with pytest.raises(WrongUnit):
                await master.read_registers(2, 0, 1)
            banks[2].registers[5] = 77
            assert await master.read_registers(3, 5, 1) == [77]
        finally:
            await master.close()
            await gateway.stop()

    run(scenario)


def test_corrupt_crc_raises_crc_error_on_rtu() -> None:
    async def scenario() -> None:
        gateway, master, banks = await _gateway("rtu")
        try:
            banks[0].faults.corrupt_crc = True
            with pytest.raises(CrcError):
                await master.read_registers(1, 0, 4)
            banks[0].faults.corrupt_crc = False
            assert await master.read_registers(1, 0, 4) == [0, 0, 0, 0]
        finally:
            await master.close()
            await gateway.stop()

    run(scenario)


def test_dropped_connection_is_lost_then_reopened() -> None:
    async def scenario() -> None:
        gateway, master, _ = await _gateway("socket", drop_every=3)
        try:
            await master.read_registers(1, 0, 1)
            await master.read_registers(1, 0, 1)
            with pytest.raises(ConnectionLost):
                await master.read_registers(1, 0, 1)
            assert await master.read_registers(1, 0, 1) == [0]
            assert len({r.connection for r in gateway.log}) == 2
        finally:
            await master.close()
            await gateway.stop()

    run(scenario)


def test_unreachable_gateway_is_connection_lost() -> None:
    async def scenario() -> None:
        gateway, master, _ = await _gateway("socket")
        await gateway.stop()
        await master.close()
        with pytest.raises(ConnectionLost):
            await master.read_registers(1, 0, 1)

    run(scenario)


def test_late_answer_after_timeout_is_not_taken_for_the_next() -> None:
    async def scenario() -> None:
        gateway, master, banks = await _gateway("socket")
        try:
            banks[0].registers[0] = 11
            banks[1].registers[0] = 22
            banks[0].faults.slow_ms = 500  # answers, but after the master gave up
            with pytest.raises(DeviceTimeout):
                await master.read_registers(1, 0, 1)
            assert await master.read_registers(2, 0, 1) == [22]
        finally:
            await master.close()
            await gateway.stop()

    run(scenario)


def test_bad_transport_settings_name_the_field() -> None:
    with pytest.raises(ValueError, match="kind"):
        open_transport("carrier-pigeon")
    with pytest.raises(ValueError, match="modbus-tcp settings"):
        open_transport("modbus-tcp", hots="x")
