"""bus_efficiency: a billing collection on one 9600-baud bus against its physical minimum.

32 simulated KPM37 meters on one simulated RS485 gateway (Modbus TCP on loopback), read by one
BusScheduler with ``plan_reads`` frames: each meter's 12-month billing history (group
"history") and its configuration (parameters, relay modes, clock, identity). The physical
minimum is the air time of the fewest legal requests for those registers (at most 125 registers
a read) sent back to back: wire time of both messages at 11 bits a character, the
3.5-character silences, the meter's 5 ms turnaround and the manual's 100 ms gap between frames
(kpm37.planner.airtime). Every figure is a ratio measured in this run:

  bus_efficiency   measured wall time of the planned collection / the physical minimum
                   (target <= 1.15);
  bus_naive        the same registers read by a naive poller, one quantity per request, on
                   one of the meters at 9600 baud / the same physical minimum;

A relay command during a bulk read is bench_jobs.py's (the whole job path).

``--quick`` (or BENCH_QUICK=1) runs a tiny version at 38400 baud for the smoke test.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

# Runnable as `python bench/bench_bus_efficiency.py` from anywhere: the project root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from record import quick, record

from kpm37.codec import decode_block
from kpm37.modbus.transports import ModbusTcpTransport
from kpm37.planner import ReadFrame, WriteFrame, plan_airtime, plan_reads
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.gateway import SimGateway, start_gateway
from kpm37.simulator.meter import SimMeter

PROFILE = load_profile("kpm37")
FRAME_GAP = 0.1  # manual §5.1: at least 100 ms between frames
TURNAROUND = 0.005  # the simulated meter's reply delay
TARGET = 1.15
BILLING = ("history", "parameter", "relay", "clock", "identity")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run; QUICK keeps the smoke test to a few seconds."""

    groups: tuple[str, ...]
    meters: int  # on the one bus
    baud: int
    naive_meters: int


FULL = Settings(groups=BILLING, meters=32, baud=9600, naive_meters=1)
QUICK = Settings(groups=("measurement",), meters=2, baud=38400, naive_meters=1)


@dataclass(frozen=True)
class Timing:
    """One bus's timing: baud, the master's frame gap and the meter's turnaround."""

    baud: int
    gap: float = FRAME_GAP
    turnaround: float = TURNAROUND

    def limit(self, frames: Sequence[ReadFrame | WriteFrame]) -> float:
        """The physical limit: planner air time of ``frames`` sent back to back (the planner
        prices a gap after every frame; a run of frames has one gap fewer)."""
        total = plan_airtime(frames, self.baud, frame_gap=self.gap, turnaround=self.turnaround)
        return total - self.gap if frames else 0.0


@asynccontextmanager
async def open_bus(index: int, meters: int,
                   timing: Timing) -> AsyncIterator[tuple[SimGateway, BusScheduler]]:
    """A simulated gateway with ``meters`` meters and the scheduler driving it; both closed
    on exit."""
    sims = [SimMeter(PROFILE, code=modbus_meter_code(index, a, meters), address=a)
            for a in range(1, meters + 1)]
    host, port, gateway = await start_gateway(sims, baud=timing.baud,
                                              turnaround=timing.turnaround)
    bus = BusScheduler(ModbusTcpTransport(host, port, timeout=5.0), frame_gap=timing.gap,
                       name=f"bus {index}")
    try:
        yield gateway, bus
    finally:
        await bus.close()
        await gateway.stop()


async def read_frame(bus: BusScheduler, unit: int, frame: ReadFrame) -> int:
    """Read one planned frame and decode it; returns how many values it yielded."""
    if frame.table == "coil":
        bits = await bus.read_coils(unit, frame.start, frame.count)
        return len(bits)
    words = await bus.read_registers(unit, frame.start, frame.count)
    return len(decode_block(PROFILE, frame.table, frame.start, words))


async def collect(bus: BusScheduler, meters: int, frames: Sequence[ReadFrame]) -> int:
    """Queue every frame for every meter at once (the scheduler keeps one in flight) and
    return the number of decoded values."""
    counts = await asyncio.gather(*(read_frame(bus, unit, frame)
                                    for unit in range(1, meters + 1) for frame in frames))
    return sum(counts)


def naive_frames(frames: Sequence[ReadFrame]) -> list[ReadFrame]:
    """One request per quantity: what a master that ignores the register layout sends."""
    regs = [PROFILE.register(name) for frame in frames for name in frame.names]
    return [ReadFrame(r.table, r.address, r.words, (r.name,)) for r in regs]


async def timed_collect(index: int, meters: int, timing: Timing,
                        frames: Sequence[ReadFrame]) -> tuple[float, float, int]:
    """(wall seconds, simulator bus seconds, decoded values) of one collection."""
    async with open_bus(index, meters, timing) as (gateway, bus):
        started = time.perf_counter()
        values = await collect(bus, meters, frames)
        return time.perf_counter() - started, gateway.busy_seconds, values


async def efficiency(cfg: Settings, frames: list[ReadFrame]) -> float:
    """Measured wall time of the planned collection against the physical minimum."""
    timing = Timing(cfg.baud)
    wall, busy, values = await timed_collect(0, cfg.meters, timing, frames)
    limit = timing.limit(list(frames) * cfg.meters)
    print(f"planned: {cfg.meters} meters x {len(frames)} frames at {cfg.baud} baud, "
          f"{values} values decoded")
    print(f"    physical minimum {limit:7.2f} s   measured {wall:7.2f} s   "
          f"(simulator wire+turnaround {busy:.2f} s)")
    ratio = wall / limit
    print(f"    measured/minimum = {ratio:.3f}   (overhead "
          f"{(wall - limit) / (cfg.meters * len(frames)) * 1000:.1f} ms per frame)")
    record("bus_efficiency", value=wall, unit="s", ratio=ratio,
           baseline="physical minimum: air time of the planned frames",
           target=f"ratio <= {TARGET}", met=ratio <= TARGET, meters=cfg.meters,
           baud=cfg.baud, frames=len(frames) * cfg.meters, minimum_s=limit, values=values)
    return ratio


async def naive_poller(cfg: Settings, frames: list[ReadFrame]) -> float:
    """The same quantities one per request, on the same kind of bus, against the same minimum."""
    naive = naive_frames(frames)
    timing = Timing(cfg.baud)
    wall, _, values = await timed_collect(1, cfg.naive_meters, timing, naive)
    limit = timing.limit(list(frames) * cfg.naive_meters)
    ratio = wall / limit
    print(f"naive: {cfg.naive_meters} meters x {len(naive)} frames (one quantity each) at "
          f"{cfg.baud} baud, {values} values decoded")
    print(f"    measured {wall:7.2f} s = x{ratio:.2f} the physical minimum "
          f"({limit:.2f} s for the planned frames)")
    record("bus_naive", value=wall, unit="s", ratio=ratio,
           baseline="physical minimum: air time of the planned frames",
           meters=cfg.naive_meters, baud=cfg.baud, frames=len(naive) * cfg.naive_meters)
    return ratio


async def run(cfg: Settings) -> None:
    """Every section in turn, then the one-line summary."""
    names = [r.name for g in cfg.groups for r in PROFILE.by_group(g) if r.readable]
    frames = plan_reads(PROFILE, names)
    print(f"collecting {len(names)} quantities ({', '.join(cfg.groups)}) per meter in "
          f"{len(frames)} planned frames; Modbus TCP gateways on loopback")
    eff = await efficiency(cfg, frames)
    naive = await naive_poller(cfg, frames)
    print(f"summary: bus x{eff:.2f} the physical minimum; naive poller x{naive:.1f}")


def main() -> int:
    asyncio.run(asyncio.wait_for(run(QUICK if quick() else FULL), 400))
    return 0


if __name__ == "__main__":
    sys.exit(main())
