"""The web benchmarks run in quick mode, exit 0 and print every figure.

No timing is asserted (the CPU is shared). What is asserted is that each figure line is there
with numbers in it, that the work measured was done in full (every message stored, alarms only
where the benchmark provokes them) and that the fleet page costs the same number of queries at
both fleet sizes. Each benchmark makes and drops its own throwaway database.
"""

from __future__ import annotations

import pytest

from tests.bench_runner import NUMBER, assert_quick_run_prints

EXPECTED = {
    "bench_ingest.py": [
        r"^database: (PostgreSQL .* database kpmfleet_bench_ingest_\d+|SQLite )",
        # quick: 600 batched + 100 naive + 300 storm + 500 under tracemalloc
        r"stored 1500 of 1500 readings, 0 dead letters, [1-9]\d* alarms",
        *(rf"^  {label} +{NUMBER} messages/s  x +{NUMBER} of naive  x{NUMBER} of a 10,000"
          for label in ("batched", "naive", "alarm storm")),
        rf"batched/naive x{NUMBER}; headroom x{NUMBER} of what 10,000 meters need \(500 msg/s",
        rf"alarm storm/batched x{NUMBER}",
        rf"memory: peak {NUMBER} MB over 500 messages = {NUMBER} MB per 1,000 messages of a "
        rf"batch, x{NUMBER} their payload bytes",
        rf"whole-run peak x{NUMBER} of the first batch's",
        rf"^summary: batching is x{NUMBER} faster .* x{NUMBER} headroom for 10,000 meters",
    ],
    "bench_fleet_page.py": [
        r"^database: (PostgreSQL .* database kpmfleet_bench_fleetpage_\d+|SQLite )",
        *(rf"^  {label} +{NUMBER} ms/request +\d+ queries/request"
          for label in (r"100 meters \(first\)", r"100 meters \(again\)", "1,000 meters",
                        r"1,000 meters \?page=150")),
        rf"1,000/100: time x{NUMBER} \(fleet x10\), queries x1\.00; deep page/first page "
        rf"time x{NUMBER}",
        r"^summary: fleet page x[\d.]+ slower at 1,000 meters than at 100; queries per "
        r"request equal \((\d+) vs \1\)",
    ],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_web_benchmark_quick_mode_prints_its_figures(script: str) -> None:
    assert_quick_run_prints(script, EXPECTED[script], timeout=100)
