"""SerialTransport (pyserial-asyncio) over a pseudo-terminal served by the simulator."""

from __future__ import annotations

import asyncio
import struct

import pytest

from kpm37.errors import DeviceTimeout
from kpm37.modbus import SerialTransport, open_transport
from kpm37.profile import load_profile
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.gateway import SimGateway
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.pty_port import PtyPort
from kpm37.simulator.rs485 import BusTiming

PROFILE = load_profile("kpm37")


def test_serial_transport_reads_and_times_out_over_a_pty() -> None:
    async def scenario() -> None:
        meters = [SimMeter(PROFILE, code=modbus_meter_code(0, a, 2), address=a) for a in (1, 2)]
        meters[1].faults.silent = True
        port = PtyPort(SimGateway(meters, framer="rtu", timing=BusTiming(38400, 0.001)))
        path = await port.open()
        transport = open_transport("serial", port=path, baudrate=38400, timeout=0.5)
        assert isinstance(transport, SerialTransport)
        try:
            words = await transport.read_registers(1, PROFILE.register("voltage_a").address, 2)
            assert 180 <= struct.unpack(">f", struct.pack(">HH", *words))[0] <= 260
            with pytest.raises(DeviceTimeout):
                await transport.read_registers(2, 0, 1)
            assert len(await transport.read_registers(1, 0x12, 7)) == 7
        finally:
            await transport.close()
            await port.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))
