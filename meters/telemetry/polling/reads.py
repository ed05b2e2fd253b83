"""The reading side of a poll cycle: every meter's live quantities through the bus's one
BusScheduler (meters.bus), one frame in flight, the frame gap honoured, each meter's words kept
as evidence.
"""

from __future__ import annotations

import asyncio
import time

from kpm37.device import MeterDevice
from kpm37.modbus.transports import open_transport
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.transport import RegisterBus
from meters.bus import transport_settings
from meters.models import Gateway, Meter
from meters.telemetry.polling.results import MeterResult


class _RecordingBus:
    """Passes a meter's requests to the bus and keeps the words that came back as evidence."""

    def __init__(self, bus: RegisterBus) -> None:
        self.bus = bus
        self.lines: list[str] = []

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        words = await self.bus.read_registers(unit, address, count)
        self.lines.append(f"unit {unit} fc03 @{address} x{count}: "
                          + " ".join(f"{w:04x}" for w in words))
        return words

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        bits = await self.bus.read_coils(unit, address, count)
        self.lines.append(f"unit {unit} fc01 @{address} x{count}: "
                          + "".join("1" if b else "0" for b in bits))
        return bits

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        await self.bus.write_registers(unit, address, values)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        await self.bus.write_coil(unit, address, value)


async def meter_read(bus: RegisterBus, meter: Meter,
                     started: float | None = None) -> MeterResult:
    """Read one meter's live quantities through ``bus`` (a BusScheduler, or any Transport);
    a failure becomes the result's error, never an exception. ``started`` (time.monotonic()
    at the cycle's start) dates the result by when its read finished."""
    started = time.monotonic() if started is None else started
    recorder = _RecordingBus(bus)
    base = {"meter_id": meter.pk, "code": meter.code, "address": meter.address}
    try:
        device = MeterDevice(recorder, load_profile(meter.profile), int(meter.address or 0))
        values = await device.read_live()
    except Exception as exc:  # every failure is this meter's result; the others carry on
        return MeterResult(**base, error=type(exc).__name__, message=str(exc) or repr(exc))
    return MeterResult(**base, values=values, raw="\n".join(recorder.lines).encode(),
                       elapsed_s=time.monotonic() - started)


async def meters_read_on(bus: RegisterBus, meters: list[Meter]) -> list[MeterResult]:
    """All meters' requests queue on ``bus``: one frame in flight, the gap honoured."""
    started = time.monotonic()
    return list(await asyncio.gather(*(meter_read(bus, m, started) for m in meters)))


async def meters_read(gateway: Gateway, meters: list[Meter]) -> list[MeterResult]:
    """Read ``meters`` through a scheduler of their own (for callers without a session)."""
    transport = open_transport(gateway.kind, **transport_settings(gateway))
    bus = BusScheduler(transport, frame_gap=gateway.frame_gap_ms / 1000, name=gateway.name)
    try:
        return await meters_read_on(bus, meters)
    finally:
        await bus.close()


