"""Each device-layer benchmark runs in its quick mode, exits 0 and prints its figures.

No timing is asserted (the CPU is shared); the figures' lines must be there with numbers in
them, and the work they measure must have been done in full (every value decoded).
"""

from __future__ import annotations

import pytest

from tests.bench_runner import NUMBER, assert_quick_run_prints

EXPECTED = {
    "bench_bus.py": [
        # 2 meters x 57 measurement quantities, all decoded through the scheduler
        r"\(a\) 2 meters x 2 frames at 38400 baud, 114 values decoded",
        rf"efficiency = limit/measured = {NUMBER}",
        rf"\(b\) naive +57 frames +measured +{NUMBER} s",
        rf"naive/planned: frames x28\.5, measured time x{NUMBER}",
        rf"\(c\) 2 gateway\(s\) .* throughput vs 1 gateway x{NUMBER}",
        rf"\(d\) 3 relay commands .* one frame .* = {NUMBER} ms",
        rf"latency median {NUMBER} ms = x{NUMBER} frame, max {NUMBER} ms",
        rf"^summary: bus efficiency {NUMBER} of the physical limit",
    ],
    "bench_planner.py": [
        rf"read everything +18 +{NUMBER} s +1064 +{NUMBER} s",
        rf"write every parameter +12 +{NUMBER} s",
        rf"planning 200 meters .*\n.* = {NUMBER} plans/s",
        rf"^summary: planned reads x{NUMBER} and writes x{NUMBER}",
    ],
    "bench_codec.py": [
        rf"struct floor +251 values/pass +{NUMBER} values/s",
        rf"codec\.decode +251 values/pass +{NUMBER} values/s +x{NUMBER} of the floor",
        rf"decode_block +251 values/pass +{NUMBER} values/s +x{NUMBER} of the floor",
        rf"one 9600-baud bus delivers {NUMBER} values/s: .* x{NUMBER} such buses",
        rf"^summary: decode_block is x{NUMBER} slower than struct\.unpack",
    ],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_quick_mode_prints_its_figures(script: str) -> None:
    assert_quick_run_prints(script, EXPECTED[script], timeout=90)
