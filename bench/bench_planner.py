"""The planner on paper: frames and air time against a naive plan, and planning speed.

No sockets: everything here is the planner's own arithmetic (PROTOCOL.md air time at 9600 baud,
11-bit characters, 100 ms frame gap, 5 ms turnaround). Printed:

  1. full-profile reads and writes: frames and air time, planned vs one register per frame;
  2. planning speed for 10,000 meters (a billing read plan and a drift write plan each):
     plans/s, and how many 9600-baud buses one core's planner could keep busy.

The naive write plan is a lower bound for a naive master: the KPM37 profile does not require
the password in the same frame, so one frame per register is legal. ``--quick`` (or
BENCH_QUICK=1) plans 200 meters instead of 10,000.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Runnable as `python bench/bench_planner.py` from anywhere: the project root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from record import quick, record

from kpm37.planner import ReadFrame, WriteFrame, plan_airtime, plan_reads, plan_writes
from kpm37.profile import load_profile

PROFILE = load_profile("kpm37")
BAUD = 9600
TURNAROUND = 0.005
BILLING_GROUPS = ("history", "energy", "measurement")
PASSWORD = 6666  # the KPM37's factory password


def air(frames: Sequence[ReadFrame | WriteFrame]) -> float:
    """Seconds on a 9600-baud bus, 100 ms gap after each frame."""
    return plan_airtime(frames, BAUD, turnaround=TURNAROUND)


def naive_reads(names: Sequence[str]) -> list[ReadFrame]:
    """One read per register."""
    regs = [PROFILE.register(n) for n in names]
    return [ReadFrame(r.table, r.address, r.words, (r.name,)) for r in regs]


def naive_writes(values: dict[str, Any]) -> list[WriteFrame]:
    """One write per register, cut from the planner's own (already encoded) frames."""
    out = []
    for frame in plan_writes(PROFILE, values):
        offset = 0
        for name in frame.names:
            reg = PROFILE.register(name)
            words = frame.words[offset:offset + reg.words]
            out.append(WriteFrame(frame.table, reg.address, words, (name,)))
            offset += reg.words
    return out


def full_parameters() -> dict[str, Any]:
    """Every settable parameter at its default, with the password that unlocks them."""
    values: dict[str, Any] = {r.name: r.default for r in PROFILE.parameters()}
    if PROFILE.password_register:
        values[PROFILE.password_register] = PASSWORD
    return values


def compare(label: str, planned: Sequence[ReadFrame | WriteFrame],
            naive: Sequence[ReadFrame | WriteFrame]) -> float:
    """Print one row of the planned/naive table; returns the air-time ratio."""
    ratio = air(naive) / air(planned)
    print(f"  {label:22} {len(planned):5d} {air(planned):9.2f} s {len(naive):6d} "
          f"{air(naive):9.2f} s   x{len(naive) / len(planned):6.1f}  x{ratio:5.1f}")
    return ratio


def frames_table() -> tuple[float, float]:
    """Section 1; returns the (read, write) air-time ratios naive/planned."""
    readable = [r.name for r in PROFILE.registers if r.readable]
    values = full_parameters()
    print(f"1. full profile at {BAUD} baud: {len(readable)} readable registers, "
          f"{len(values)} parameters to write")
    print(f"  {'':22} {'frames':>5} {'air time':>11} {'naive':>6} {'air time':>11}"
          f"   {'frames':>7} {'time':>6}")
    reads = compare("read everything", plan_reads(PROFILE, readable), naive_reads(readable))
    writes = compare("write every parameter", plan_writes(PROFILE, values), naive_writes(values))
    billing = [r.name for g in BILLING_GROUPS for r in PROFILE.by_group(g) if r.readable]
    compare("billing collection", plan_reads(PROFILE, billing), naive_reads(billing))
    return reads, writes


def drift(index: int) -> dict[str, Any]:
    """A small, meter-specific drift to correct: the kind of write a rollout plans."""
    params = [r for r in PROFILE.by_group("parameter")
              if r.writable and r.default is not None and r.name != PROFILE.password_register]
    chosen = [params[(index + k) % len(params)] for k in range(3)]
    values: dict[str, Any] = {r.name: r.default for r in chosen}
    if PROFILE.password_register:
        values[PROFILE.password_register] = PASSWORD
    return values


def planning_speed(meters: int) -> tuple[float, float]:
    """Section 2; returns (plans per second, buses one core could feed)."""
    billing = [r.name for g in BILLING_GROUPS for r in PROFILE.by_group(g) if r.readable]
    drifts = [drift(i) for i in range(meters)]
    bus_seconds = 0.0
    started = time.perf_counter()
    for values in drifts:
        reads = plan_reads(PROFILE, billing)
        writes = plan_writes(PROFILE, values)
        bus_seconds += air(reads) + air(writes)
    elapsed = time.perf_counter() - started
    plans_per_s = 2 * meters / elapsed
    print(f"2. planning {meters} meters (billing read plan + 3-parameter drift write plan each)")
    print(f"  {elapsed:.2f} s on one core = {plans_per_s:,.0f} plans/s; "
          f"the plans take {bus_seconds:,.0f} s of 9600-baud bus time")
    feeds = bus_seconds / elapsed
    print(f"  bus time / planning time = x{feeds:,.0f} (9600-baud buses one core keeps fed)")
    return plans_per_s, feeds


def main() -> int:
    reads, writes = frames_table()
    plans_per_s, feeds = planning_speed(200 if quick() else 10_000)
    print(f"summary: planned reads x{reads:.1f} and writes x{writes:.1f} less air time than "
          f"naive; {plans_per_s:,.0f} plans/s, enough for {feeds:,.0f} buses per core")
    record("planner_reads", value=plans_per_s, unit="plans/s", ratio=1 / reads,
           baseline="air time of a naive one-register-per-frame read plan",
           writes_ratio=1 / writes, buses_per_core=feeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
