"""bench/bench_jobs.py runs in its quick mode and prints its figures (no timing asserted)."""

from __future__ import annotations

from tests.bench_runner import NUMBER, assert_quick_run_prints


def test_bench_jobs_quick_mode_prints_its_figures() -> None:
    assert_quick_run_prints("bench_jobs.py", [
        rf"idle bus +median +{NUMBER} ms",
        rf"during billing reads median +{NUMBER} ms",
        rf"^summary: busy/idle start delay x{NUMBER}; busy delay = x{NUMBER} frame",
    ], timeout=180)
