"""MeterDevice end to end: names -> planned frames -> bus scheduler -> simulated gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from kpm37.device import MeterDevice, VerifyFailed, live_quantities
from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.modbus.transports import ModbusTcpTransport
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.simulator.gateway import SimGateway, start_gateway
from kpm37.simulator.meter import SimMeter

PROFILE = load_profile("kpm37")


@asynccontextmanager
async def one_meter(baud: int = 38400) -> AsyncIterator[tuple[SimMeter, MeterDevice, SimGateway]]:
    meter = SimMeter(PROFILE, code="3071025100001", address=7, seed=3)
    host, port, gateway = await start_gateway([meter], baud=baud)
    bus = BusScheduler(ModbusTcpTransport(host, port, timeout=1.0), frame_gap=0.0)
    try:
        yield meter, MeterDevice(bus, PROFILE, unit=7), gateway
    finally:
        await bus.close()
        await gateway.stop()


def test_read_live_returns_every_live_quantity_in_planned_frames() -> None:
    async def scenario() -> None:
        async with one_meter() as (_meter, device, gateway):
            values = await device.read_live()
            assert set(values) == set(live_quantities(PROFILE))
            assert 180 < values["voltage_a"] < 260
            assert values["import_active_energy"] >= 0
            # Frames on the wire are the planner's, not one per quantity.
            assert len(gateway.log) < len(values) / 5

    asyncio.run(scenario())


def test_write_reads_back_and_reports_the_meter_value() -> None:
    async def scenario() -> None:
        async with one_meter() as (meter, device, _):
            got = await device.write({"password": 6666, "ct_ratio": 40.0, "billing_day": 12})
            assert got["ct_ratio"] == pytest.approx(40.0)
            assert got["billing_day"] == 12
            assert meter.parameter("billing_day") == 12

    asyncio.run(scenario())


def test_out_of_range_write_sends_nothing() -> None:
    async def scenario() -> None:
        async with one_meter() as (meter, device, gateway):
            before = meter.parameter("billing_day")
            with pytest.raises(ValueOutOfRange) as err:
                await device.write({"password": 6666, "billing_day": 31})
            assert err.value.field == "billing_day"
            assert gateway.log == []
            assert meter.parameter("billing_day") == before

    asyncio.run(scenario())


def test_wrong_password_surfaces_as_a_modbus_exception_and_changes_nothing() -> None:
    async def scenario() -> None:
        async with one_meter() as (meter, device, _):
            before = meter.parameter("ct_ratio")
            with pytest.raises((ModbusExceptionResponse, VerifyFailed)):
                await device.write({"password": 1234, "ct_ratio": 99.0})
            assert meter.parameter("ct_ratio") == before

    asyncio.run(scenario())


def test_relay_switch_is_read_back() -> None:
    async def scenario() -> None:
        async with one_meter() as (meter, device, _):
            # Level mode holds the state; the default pulse mode would open again after 200 ms.
            meter.set_parameter("do1_output_mode", 0)
            assert await device.set_relay("do1", True) is True
            assert meter.relay("do1") is True
            assert await device.set_relay("do1", False) is False

    asyncio.run(scenario())
