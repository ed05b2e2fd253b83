"""Decoding a full read block: the profile-driven codec against a plain struct.unpack floor.

The words come from a simulated meter, read with the planner's frames for one billing
collection (history, energy counters, measurements). Three ways to turn them into numbers,
timed side by side (best of 3 repeats):

  struct floor   one struct.pack + struct.unpack per frame, every word pair taken as a
                 big-endian float32 (knows nothing of the map: the fastest Python can go);
  codec.decode   per register, with the register list of each frame known in advance;
  decode_block   what the scheduler's callers use: finds the registers inside the block.

Printed as values/s and as the ratio to the struct floor. ``--quick`` (or BENCH_QUICK=1)
runs a few iterations only.
"""

from __future__ import annotations

import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as `python bench/bench_codec.py` from anywhere: the project root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from record import quick, record

from kpm37 import codec
from kpm37.planner import ReadFrame, plan_airtime, plan_reads
from kpm37.profile import load_profile
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.meter import SimMeter

PROFILE = load_profile("kpm37")
GROUPS = ("history", "energy", "measurement")
Block = tuple[ReadFrame, list[int]]


def read_blocks() -> list[Block]:
    """Each planned frame of a billing collection with the words a simulated meter returns."""
    names = [r.name for g in GROUPS for r in PROFILE.by_group(g) if r.readable]
    meter = SimMeter(PROFILE, code=modbus_meter_code(0, 1, 1), address=1)
    return [(f, meter.read_registers(f.start, f.count)) for f in plan_reads(PROFILE, names)]


def struct_floor(blocks: list[Block]) -> int:
    """Every word pair as a big-endian float32; returns how many values came out."""
    count = 0
    for _, words in blocks:
        pairs = len(words) // 2
        raw = struct.pack(f">{2 * pairs}H", *words[:2 * pairs])
        count += len(struct.unpack(f">{pairs}f", raw))
    return count


def per_register(blocks: list[Block]) -> int:
    """codec.decode on each register named by the frame (the layout is known up front)."""
    count = 0
    for frame, words in blocks:
        for name in frame.names:
            reg = PROFILE.register(name)
            offset = reg.address - frame.start
            codec.decode(reg, words[offset:offset + reg.words])
            count += 1
    return count


def whole_block(blocks: list[Block]) -> int:
    """codec.decode_block on each frame, as a collector does."""
    return sum(len(codec.decode_block(PROFILE, f.table, f.start, w)) for f, w in blocks)


def values_per_second(decoder: Callable[[list[Block]], int], blocks: list[Block],
                      loops: int) -> tuple[float, int]:
    """(values decoded per second, values per pass), best of three repeats."""
    best = float("inf")
    values = 0
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(loops):
            values = decoder(blocks)
        best = min(best, time.perf_counter() - started)
    return values * loops / best, values


def main() -> int:
    loops = 5 if quick() else 300
    blocks = read_blocks()
    words = sum(len(w) for _, w in blocks)
    print(f"decoding {len(blocks)} read blocks ({words} words) of a billing collection, "
          f"{loops} passes, best of 3")
    rates = {}
    for label, decoder in (("struct floor", struct_floor), ("codec.decode", per_register),
                           ("decode_block", whole_block)):
        rates[label], values = values_per_second(decoder, blocks, loops)
        print(f"  {label:13} {values:4d} values/pass  {rates[label]:12,.0f} values/s  "
              f"x{rates[label] / rates['struct floor']:.3f} of the floor")
    floor = rates["struct floor"]
    frames = [f for f, _ in blocks]
    on_bus = sum(len(f.names) for f in frames) / plan_airtime(frames, 9600, turnaround=0.005)
    print(f"  one 9600-baud bus delivers {on_bus:,.0f} values/s: decode_block keeps up with "
          f"x{rates['decode_block'] / on_bus:,.0f} such buses per core")
    slowdown = floor / rates["decode_block"]
    print(f"summary: decode_block is x{slowdown:.1f} slower than struct.unpack "
          f"({rates['decode_block']:,.0f} values/s); codec.decode per register "
          f"x{floor / rates['codec.decode']:.1f}")
    record("codec_decode_block", value=rates["decode_block"], unit="values/s",
           ratio=rates["decode_block"] / floor, baseline="struct.unpack floor, same run",
           buses_per_core=rates["decode_block"] / on_bus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
