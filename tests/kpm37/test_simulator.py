"""The simulated fleet in-process: SimMeters behind gateways, codes, faults, bus and LoRa timing."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from kpm37.errors import DeviceTimeout
from kpm37.modbus import LoraTransport, ModbusTcpTransport, RtuOverTcpTransport
from kpm37.profile import load_profile
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.faults import parse_fault
from kpm37.simulator.fleet import FleetConfig, SimulatedFleet
from kpm37.simulator.rs485 import BusTiming

T = TypeVar("T")
VOLTAGE_A = load_profile("kpm37").register("voltage_a").address


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 30)

    return asyncio.run(bounded())


def _float(words: list[int]) -> float:
    return float(struct.unpack(">f", struct.pack(">HH", *words))[0])


def test_fleet_serves_every_meter_with_its_own_code() -> None:
    async def scenario() -> None:
        async with SimulatedFleet(gateways=2, meters_per_gateway=3, baud=115200) as fleet:
            codes = [m.code for m in fleet.meters]  # type: ignore[attr-defined]
            assert codes == [modbus_meter_code(g, a, 3) for g in range(2) for a in (1, 2, 3)]
            for gateway in fleet.gateways:
                transport = ModbusTcpTransport(*gateway.address, timeout=1.0)
                try:
                    for unit in (1, 2, 3):
                        volts = _float(await transport.read_registers(unit, VOLTAGE_A, 2))
                        assert 180.0 <= volts <= 260.0
                    serial = await transport.read_registers(2, 0x12, 7)
                    text = b"".join(w.to_bytes(2, "big") for w in serial).rstrip(b"\0 ").decode()
                    assert text == gateway.meters[2].code  # type: ignore[attr-defined]
                finally:
                    await transport.close()

    run(scenario)


def test_configured_faults_reach_the_wire() -> None:
    faults = tuple(parse_fault(s) for s in ("0:2:silent", "0:3:slow_ms=50"))

    async def scenario() -> None:
        config = FleetConfig(meters_per_gateway=3, baud=115200, faults=faults)
        async with SimulatedFleet(config) as fleet:
            transport = ModbusTcpTransport(*fleet.gateways[0].address, timeout=0.3)
            try:
                with pytest.raises(DeviceTimeout):
                    await transport.read_registers(2, VOLTAGE_A, 2)
                await transport.read_registers(1, VOLTAGE_A, 2)
                await transport.read_registers(3, VOLTAGE_A, 2)
            finally:
                await transport.close()
            outcomes = {r.unit: r for r in fleet.gateways[0].log}
            assert outcomes[2].outcome == "silent"
            assert outcomes[3].busy >= 0.05 and outcomes[3].busy > outcomes[1].busy

    run(scenario)


def test_rs485_bus_time_follows_the_baud_rate() -> None:
    async def scenario() -> None:
        async with SimulatedFleet(meters_per_gateway=1, baud=9600, framer="rtu") as fleet:
            transport = RtuOverTcpTransport(*fleet.gateways[0].address, timeout=2.0)
            try:
                await transport.read_registers(1, VOLTAGE_A, 50)
                await asyncio.sleep(0.1)
                await transport.read_registers(1, VOLTAGE_A, 2)
            finally:
                await transport.close()
            first, second = fleet.gateways[0].log
            timing = BusTiming(9600, 0.005)
            assert first.busy >= timing.exchange_time(8, 105)  # ≈ 0.14 s at 9600 baud
            assert first.busy > 2 * second.busy
            assert second.gap is not None and second.gap >= 0.09  # the master's pause, measured

    run(scenario)


def test_lora_gateway_adds_its_link_delay() -> None:
    async def scenario() -> None:
        config = FleetConfig(gateways=1, lora_gateways=1, baud=115200, lora_delay=0.1)
        async with SimulatedFleet(config) as fleet:
            lora = fleet.gateways[1]
            assert lora.framer.name == "rtu"
            transport = LoraTransport(*lora.address, delay=0.01)
            try:
                await transport.read_registers(1, VOLTAGE_A, 2)
            finally:
                await transport.close()
            assert lora.log[0].busy >= 0.2  # there and back over the radio

    run(scenario)


def test_bad_fleet_settings_name_the_field() -> None:
    with pytest.raises(ValueError, match="mqtt_url"):
        FleetConfig(mqtt_meters=2)
    with pytest.raises(ValueError, match="meters_per_gateway"):
        FleetConfig(meters_per_gateway=300)
    with pytest.raises(ValueError, match="kind 'melted'"):
        parse_fault("0:1:melted")
    with pytest.raises(ValueError, match="unit"):
        parse_fault("0:x:silent")
