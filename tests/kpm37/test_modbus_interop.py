"""Interoperability with pymodbus 3.16: our master against its server, its client against our
simulator, over Modbus TCP and RTU framing, so our stack is not only self-consistent."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from kpm37.errors import ModbusExceptionResponse
from kpm37.modbus import ModbusTcpTransport, RtuOverTcpTransport
from kpm37.modbus.master import ModbusMaster
from kpm37.simulator.bank import RegisterBank
from kpm37.simulator.gateway import start_gateway

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 30)

    return asyncio.run(bounded())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _pymodbus_server(
    framer: FramerType,
) -> tuple[ModbusTcpServer, int, asyncio.Task[None]]:
    device = SimDevice(
        id=5,
        simdata=(
            [SimData(address=0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(address=0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(address=0, values=list(range(100, 200)), datatype=DataType.REGISTERS)],
            [SimData(address=0, count=10, values=0, datatype=DataType.REGISTERS)],
        ),
    )
    port = _free_port()
    server = ModbusTcpServer(device, framer=framer, address=("127.0.0.1", port))
    serving = asyncio.create_task(server.serve_forever())
    for _ in range(100):  # until it listens
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return server, port, serving
        await asyncio.sleep(0.02)
    raise AssertionError("pymodbus server did not start")


@pytest.mark.parametrize(
    ("framer", "transport"),
    [(FramerType.SOCKET, ModbusTcpTransport), (FramerType.RTU, RtuOverTcpTransport)],
)
def test_our_master_against_pymodbus_server(
    framer: FramerType, transport: type[ModbusMaster]
) -> None:
    async def scenario() -> None:
        server, port, serving = await _pymodbus_server(framer)
        master = transport("127.0.0.1", port, timeout=2.0)  # type: ignore[call-arg]
        try:
            assert await master.read_registers(5, 10, 3) == [110, 111, 112]
            await master.write_registers(5, 20, [7, 8])
            assert await master.read_registers(5, 19, 4) == [119, 7, 8, 122]
            await master.write_coil(5, 3, True)
            assert (await master.read_coils(5, 0, 5))[3] is True
            with pytest.raises(ModbusExceptionResponse):
                await master.read_registers(5, 95, 10)
        finally:
            await master.close()
            await server.shutdown()
            await asyncio.wait_for(serving, 5)

    run(scenario)


@pytest.mark.parametrize(("framer", "kind"), [(FramerType.SOCKET, "socket"),
                                              (FramerType.RTU, "rtu")])
def test_pymodbus_client_against_our_simulator(framer: FramerType, kind: str) -> None:
    async def scenario() -> None:
        bank = RegisterBank(9)
        bank.registers[0x30:0x32] = [0x4366, 0x8000]
        host, port, gateway = await start_gateway([bank], framer=kind, baud=115200)
        client = AsyncModbusTcpClient(host, port=port, framer=framer, timeout=2, retries=0)
        try:
            assert await client.connect()
            read = await client.read_holding_registers(0x30, count=2, device_id=9)
            assert read.registers == [0x4366, 0x8000]
            written = await client.write_registers(0x40, [1, 2, 3], device_id=9)
            assert not written.isError()
            assert bank.registers[0x40:0x43] == [1, 2, 3]
            assert not (await client.write_coil(2, True, device_id=9)).isError()
            assert (await client.read_coils(0, count=4, device_id=9)).bits[:4] == [
                False, False, True, False]
            refused = await client.read_holding_registers(0x3FF, count=4, device_id=9)
            assert refused.isError() and refused.exception_code == 2
        finally:
            client.close()
            await gateway.stop()

    run(scenario)
