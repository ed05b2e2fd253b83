"""The planner's air-time estimate against the bus time the simulator measures at 9600 baud.

The one timing test allowed: it compares the simulator's own recorded bus busy time (summed),
not the test's wall clock, and allows 10 %.
"""

from __future__ import annotations

import asyncio

import pytest

from kpm37.modbus import RtuOverTcpTransport, pdu
from kpm37.planner import ReadFrame, airtime, frame_bytes, plan_reads
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler, rtu_bytes
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter

BAUD, TURNAROUND = 9600, 0.005
PROFILE = load_profile("kpm37")


def test_measured_bus_time_matches_the_planner_within_ten_percent() -> None:
    names = [r.name for r in PROFILE.registers
             if r.group in ("measurement", "energy", "history") and r.readable]
    frames = plan_reads(PROFILE, names)
    assert len(frames) >= 4

    async def scenario() -> tuple[float, int]:
        meter = SimMeter(PROFILE, code=modbus_meter_code(0, 1, 1), address=1)
        host, port, gateway = await start_gateway([meter], framer="rtu", baud=BAUD,
                                                  turnaround=TURNAROUND)
        bus = BusScheduler(RtuOverTcpTransport(host, port, timeout=3.0), frame_gap=0.02)
        try:
            for frame in frames:
                if frame.table == "coil":
                    await bus.read_coils(1, frame.start, frame.count)
                else:
                    await bus.read_registers(1, frame.start, frame.count)
            return gateway.busy_seconds, bus.stats.wire_bytes
        finally:
            await bus.close()
            await gateway.stop()

    measured, wire_bytes = asyncio.run(asyncio.wait_for(scenario(), 30))
    # The gap between frames is the master's to choose; the simulator measures it separately.
    estimate = sum(airtime(f, BAUD, frame_gap=0.0, turnaround=TURNAROUND) for f in frames)
    print(f"bus busy measured {measured:.3f} s, planner estimate {estimate:.3f} s")
    assert measured == pytest.approx(estimate, rel=0.10)
    assert wire_bytes == sum(sum(frame_bytes(f)) for f in frames)
    assert [rtu_bytes(_request(f)) for f in frames] == [frame_bytes(f) for f in frames]


def _request(frame: ReadFrame) -> pdu.Request:
    build = pdu.read_coils if frame.table == "coil" else pdu.read_registers
    return build(1, frame.start, frame.count)
