"""The bus against its physical limit: the BusScheduler on simulated RS485 gateways.

Every meter's monthly billing data (history), energy counters and measurements are collected
with ``plan_reads`` frames through one BusScheduler per gateway, over real loopback sockets.
The physical limit is the planner's air time of those frames (wire time, 3.5-character
silences, the meter's turnaround and the manual's 100 ms frame gap); every figure is a ratio
measured in this run:

  (a) efficiency: physical limit / measured wall time, 10 meters at 9600 baud;
  (b) naive one-quantity-per-request plan vs the planned one, same meter, same quantities;
  (c) 1, 2, 4 gateways in one event loop: throughput vs one gateway (buses are independent);
  (d) relay command latency during a bulk read, in units of one frame's air time.

(b) would take 30 s per meter at 9600 baud, so it runs on a time-compressed bus (baud x8,
gap and turnaround /8) and prints the planner's prediction at 9600 beside it; (c) runs at
19200 baud. ``--quick`` (or BENCH_QUICK=1) runs a tiny version for the smoke test.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

# Runnable as `python bench/bench_bus.py` from anywhere: the project root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpm37.codec import decode_block
from kpm37.modbus.transports import ModbusTcpTransport
from kpm37.planner import ReadFrame, WriteFrame, airtime, plan_airtime, plan_reads
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.gateway import SimGateway, start_gateway
from kpm37.simulator.meter import SimMeter

PROFILE = load_profile("kpm37")
FRAME_GAP = 0.1  # manual §5.1: at least 100 ms between frames
TURNAROUND = 0.005  # the simulated meter's reply delay
RELAY_COIL = PROFILE.register("do1").address


@dataclass(frozen=True)
class Settings:
    """Sizes of one run; QUICK keeps the smoke test to a few seconds."""

    groups: tuple[str, ...]
    meters: int  # (a) meters on the 9600-baud gateway
    baud: int
    squeeze: int  # (b) time compression of the naive comparison
    gateway_meters: int  # (c) meters per gateway
    gateway_baud: int
    gateway_counts: tuple[int, ...]
    relay_meters: int  # (d)
    relay_commands: int


FULL = Settings(groups=("history", "energy", "measurement"), meters=10, baud=9600, squeeze=8,
                gateway_meters=3, gateway_baud=19200, gateway_counts=(1, 2, 4),
                relay_meters=3, relay_commands=8)
QUICK = Settings(groups=("measurement",), meters=2, baud=38400, squeeze=16, gateway_meters=1,
                 gateway_baud=38400, gateway_counts=(1, 2), relay_meters=2, relay_commands=3)


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
    """(a) measured wall time of a full collection against the physical limit."""
    timing = Timing(cfg.baud)
    wall, busy, values = await timed_collect(0, cfg.meters, timing, frames)
    limit = timing.limit(list(frames) * cfg.meters)
    print(f"(a) {cfg.meters} meters x {len(frames)} frames at {cfg.baud} baud, "
          f"{values} values decoded")
    print(f"    physical limit {limit:7.2f} s   measured {wall:7.2f} s   "
          f"(simulator wire+turnaround {busy:.2f} s)")
    print(f"    efficiency = limit/measured = {limit / wall:.3f}   (overhead "
          f"{(wall - limit) / (cfg.meters * len(frames)) * 1000:.1f} ms per frame)")
    return limit / wall


async def naive_vs_planned(cfg: Settings, frames: list[ReadFrame]) -> float:
    """(b) the same quantities read one per request, on a time-compressed bus."""
    naive = naive_frames(frames)
    fast = Timing(9600 * cfg.squeeze, FRAME_GAP / cfg.squeeze, TURNAROUND / cfg.squeeze)
    real = Timing(9600)
    walls = {}
    for label, plan in (("planned", frames), ("naive", naive)):
        walls[label], _, _ = await timed_collect(1, 1, fast, plan)
        overhead = (walls[label] - fast.limit(plan)) / len(plan) * 1000
        print(f"(b) {label:7} {len(plan):4d} frames  measured {walls[label]:6.2f} s  "
              f"limit {fast.limit(plan):6.2f} s at {fast.baud} baud  "
              f"(at 9600 baud: {real.limit(plan):6.2f} s)  overhead {overhead:.1f} ms/frame")
    measured = walls["naive"] / walls["planned"]
    print(f"    naive/planned: frames x{len(naive) / len(frames):.1f}, measured time "
          f"x{measured:.1f}, physical limit at 9600 x{real.limit(naive) / real.limit(frames):.1f}"
          f"  (bus compressed x{cfg.squeeze}: gap {fast.gap * 1000:.1f} ms)")
    return measured


async def parallel_gateways(cfg: Settings, frames: list[ReadFrame]) -> float:
    """(c) n gateways collected at once in one event loop: throughput relative to one."""
    timing = Timing(cfg.gateway_baud)
    base = 0.0
    ratio = 1.0
    for count in cfg.gateway_counts:
        async with AsyncExitStack() as stack:
            buses = [await stack.enter_async_context(open_bus(i, cfg.gateway_meters, timing))
                     for i in range(count)]
            started = time.perf_counter()
            await asyncio.gather(*(collect(bus, cfg.gateway_meters, frames) for _, bus in buses))
            wall = time.perf_counter() - started
        throughput = count * cfg.gateway_meters * len(frames) / wall
        base = base or throughput
        ratio = throughput / base
        print(f"(c) {count} gateway(s) x {cfg.gateway_meters} meters at {cfg.gateway_baud} baud: "
              f"{throughput:6.2f} frames/s  wall {wall:5.2f} s  throughput vs 1 gateway "
              f"x{ratio:.2f} (ideal x{count})")
    return ratio


async def relay_latency(cfg: Settings, frames: list[ReadFrame]) -> float:
    """(d) relay commands sent while a bulk read fills the queue: latency / one frame."""
    timing = Timing(cfg.baud)
    longest = max(airtime(f, timing.baud, frame_gap=timing.gap, turnaround=timing.turnaround)
                  for f in frames)
    spacing = timing.limit(frames) * cfg.relay_meters / (cfg.relay_commands + 1)
    latencies, queued = [], []
    async with open_bus(0, cfg.relay_meters, timing) as (_, bus):
        bulk = asyncio.create_task(collect(bus, cfg.relay_meters, frames))
        for i in range(cfg.relay_commands):
            await asyncio.sleep(spacing)
            queued.append(bus.queued)
            started = time.perf_counter()
            await bus.write_coil(1 + i % cfg.relay_meters, RELAY_COIL, i % 2 == 0)
            latencies.append(time.perf_counter() - started)
        await bulk
    worst, median = max(latencies), statistics.median(latencies)
    print(f"(d) {len(latencies)} relay commands during a bulk read at {timing.baud} baud; "
          f"one frame (longest, with gap) = {longest * 1000:.0f} ms")
    print(f"    latency median {median * 1000:.0f} ms = x{median / longest:.2f} frame, "
          f"max {worst * 1000:.0f} ms = x{worst / longest:.2f} frame; bulk frames queued "
          f"ahead: median {statistics.median(queued):.0f}")
    return worst / longest


async def run(cfg: Settings) -> None:
    """Every section in turn, then the one-line summary."""
    names = [r.name for g in cfg.groups for r in PROFILE.by_group(g) if r.readable]
    frames = plan_reads(PROFILE, names)
    print(f"collecting {len(names)} quantities ({', '.join(cfg.groups)}) per meter in "
          f"{len(frames)} planned frames; Modbus TCP gateways on loopback")
    eff = await efficiency(cfg, frames)
    naive = await naive_vs_planned(cfg, frames)
    scale = await parallel_gateways(cfg, frames)
    relay = await relay_latency(cfg, frames)
    print(f"summary: bus efficiency {eff:.2f} of the physical limit; naive plan x{naive:.1f} "
          f"slower; {cfg.gateway_counts[-1]} gateways x{scale:.2f} throughput; "
          f"relay latency <= x{relay:.2f} frame")


def main() -> int:
    quick = "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"
    asyncio.run(asyncio.wait_for(run(QUICK if quick else FULL), 150))
    return 0


if __name__ == "__main__":
    sys.exit(main())
