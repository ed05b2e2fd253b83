"""Every register and coil row against the simulated meter over a real Modbus TCP socket.

The words are decoded as the documents describe them (float32 big-endian, one 16-bit word,
ASCII, 6 clock bytes) without our codec, and compared with the meter's own quantities in the
documented unit: 0042H must carry watts where the platform shows kilowatts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kpm37.modbus import ModbusTcpTransport
from kpm37.profile import load_profile
from kpm37.quantities import QUANTITIES, unit_factor
from kpm37.simulator.clock import SimClock
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter
from tests.conformance.facts import WORDS, Fact, decode_documented, facts


class ManualUtc:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def aged_meter(profile: str) -> SimMeter:
    """A meter with a steady load that has lived through three monthly freezes."""
    utc = ManualUtc()
    meter = SimMeter(load_profile(profile), code="33B1226950001" if profile == "kpm33b"
                     else "3071226900001", address=1, clock=SimClock(utc_source=utc))
    meter.set_load(voltage=230.0, current=10.0, power_factor=0.95)
    utc.now = datetime(2026, 4, 12, 9, 30, tzinfo=UTC)
    meter.tick()
    return meter


def frozen_readings(meter: SimMeter) -> list[dict[str, float]]:
    """The readings frozen at each monthly date, newest first."""
    out, month = [], datetime(2026, 4, 1)
    while (frozen := meter.frozen_month(month.year, month.month)) is not None:
        out.append(frozen)
        month = (month - timedelta(days=1)).replace(day=1)
    return out


def expected(meter: SimMeter, fact: Fact, frozen: list[dict[str, float]]) -> Any:
    """What the documents say the words at ``fact`` hold for this meter, or None if the row
    leaves it open (consumption of a month older than the simulation)."""
    if fact.name.startswith("consumed_"):
        quantity, months_ago = fact.name.removeprefix("consumed_").rsplit("_m", 1)
        n = int(months_ago)
        ends = [meter.quantities(), *frozen]
        if n + 1 >= len(ends):
            return None
        return ends[n][quantity] - ends[n + 1][quantity]  # KPM33B §4.1: consumption
    quantity = QUANTITIES.get(fact.name)
    if quantity is not None:
        return meter.quantities()[fact.name] / unit_factor(fact.unit, quantity.unit)
    if fact.type == "ascii":
        return meter.code
    if fact.type == "bcd_clock":
        return meter.clock.now_local().replace(microsecond=0)
    return meter.parameter(fact.name)


def documented(fact: Fact, words: list[int]) -> Any:
    if fact.type == "ascii":
        return b"".join(w.to_bytes(2, "big") for w in words)[:13].decode()
    if fact.type == "bcd_clock":
        y, mo, d, h, mi, s = (int(f"{b:02x}") for w in words for b in w.to_bytes(2, "big"))
        return datetime(2000 + y, mo, d, h, mi, s)  # meter local time
    return decode_documented(fact.type, words)


async def read_rows(profile: str) -> list[str]:
    meter = aged_meter(profile)
    frozen = frozen_readings(meter)
    assert len(frozen) == 3
    host, port, gateway = await start_gateway([meter], baud=115200, turnaround=0.0)
    transport = ModbusTcpTransport(host, port, timeout=2.0)
    wrong = []
    try:
        for fact in facts("register"):
            if profile not in fact.profiles:
                continue
            words = await transport.read_registers(1, fact.address, WORDS[fact.type])
            got, want = documented(fact, words), expected(meter, fact, frozen)
            if want is None:
                ok = isinstance(got, float) and got >= 0
            elif isinstance(want, float):
                ok = got == pytest.approx(want, rel=1e-5, abs=1e-3)
            else:
                ok = got == want
            if not ok:
                wrong.append(f"{fact.label}: served {got!r}, documents say {want!r} {fact.unit}")
        await coil_rows(profile, transport, wrong)
    finally:
        await transport.close()
        await gateway.stop()
    return wrong


async def coil_rows(profile: str, transport: ModbusTcpTransport, wrong: list[str]) -> None:
    """KPM33B §6.1.2: function 05 with FF00 closes the relay, 0000 opens it; 01 reads it."""
    for fact in facts("coil"):
        if profile in fact.profiles:
            for state in (True, False):
                await transport.write_coil(1, fact.address, state)
                if await transport.read_coils(1, fact.address, 1) != [state]:
                    wrong.append(f"{fact.label}: wrote {state}, read back otherwise")


@pytest.mark.parametrize("profile", ["kpm33b", "kpm37"])
def test_every_register_row_over_modbus_tcp(profile: str) -> None:
    wrong = asyncio.run(asyncio.wait_for(read_rows(profile), 120))
    assert wrong == []


def test_power_is_served_in_watts_where_the_platform_keeps_kilowatts() -> None:
    meter = aged_meter("kpm33b")
    reg = meter.profile.register("active_power_total")

    async def read() -> list[int]:
        host, port, gateway = await start_gateway([meter], baud=115200, turnaround=0.0)
        transport = ModbusTcpTransport(host, port, timeout=2.0)
        try:
            return await transport.read_registers(1, 0x0048, 2)
        finally:
            await transport.close()
            await gateway.stop()

    watts = decode_documented("float32", asyncio.run(read()))
    kilowatts = meter.quantities()["active_power_total"]
    assert watts == pytest.approx(3 * 230.0 * 10.0 * 0.95, rel=1e-4)  # U I cos(phi), 3 phases
    assert kilowatts == pytest.approx(watts / 1000, rel=1e-5)
    assert (reg.unit, QUANTITIES[reg.name].unit) == ("W", "kW")
