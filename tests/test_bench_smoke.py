"""Every benchmark in bench/ runs in its quick mode, exits 0, prints its figures and writes
its record lines (bench/record.py) - a new bench_*.py is picked up here without an edit.

No timing is asserted (the CPU is shared). What is asserted is that each figure line is there
with numbers in it, that the work measured was done in full (every message stored once,
alarms only where the benchmark provokes them, every value decoded) and that the fleet page
costs the same number of queries at every fleet size. Each web benchmark makes and drops its
own throwaway database; the MQTT ones start their own Mosquitto.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_runner import NUMBER, ROOT, assert_prints, assert_record, quick_run

SCRIPTS = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))
DB = r"^database: PostgreSQL .* database kpmfleet_bench_{}_\d+"

EXPECTED = {
    "bench_ingest.py": [
        DB.format("ingest"),
        # quick: 600 batched + 100 naive + 300 storm + 500 under tracemalloc
        r"stored 1500 of 1500 readings, 0 dead letters, [1-9]\d* alarms",
        *(rf"^  {label} +{NUMBER} messages/s  x +{NUMBER} of naive  x{NUMBER} of a 10,000"
          for label in ("batched", "naive", "alarm storm")),
        rf"memory: peak {NUMBER} MB over 500 messages",
    ],
    "bench_ingest_throughput.py": [
        DB.format("ingestmqtt"),
        r"300 meters, 900 messages .* 2 ingest_mqtt processes and a bare paho subscriber",
        r"'stored': 900, 'expected': 900, 'dead_letters': 0, 'latest_states': 300, "
        r"'open_alarms': 6, 'expected_alarms': 6, 'alarm_repeats': 12, 'expected_repeats': 12",
        rf"bare received 900 at {NUMBER} msg/s; ingest committed 900 at {NUMBER} msg/s",
    ],
    "bench_fleet_page.py": [
        DB.format("fleetpage"),
        *(rf"^  {label} +p50 +{NUMBER} ms  p95 +{NUMBER} ms +(\d+) queries/request"
          for label in ("100 meters", "500 meters", r"500 meters \?page=150",
                        r"100 meters \(again\)")),
    ],
    "bench_gateway_scaling.py": [
        DB.format("scaling"),
        rf"^  +2 gateway\(s\): +{NUMBER} meters/s, efficiency {NUMBER}",
    ],
    "bench_bus_efficiency.py": [
        # 2 meters x 57 measurement quantities, all decoded through the scheduler
        r"planned: 2 meters x 2 frames at 38400 baud, 114 values decoded",
        rf"measured/minimum = {NUMBER}",
        r"naive: 1 meters x 57 frames \(one quantity each\) at 38400 baud, 57 values decoded",
    ],
    "bench_jobs.py": [
        rf"idle bus +median +{NUMBER} ms",
        rf"during billing reads median +{NUMBER} ms",
        rf"^summary: busy/idle start delay x{NUMBER}; busy delay = x{NUMBER} frame",
    ],
    "bench_reconnect_storm.py": [
        DB.format("storm"),
        r"300 meters flush 900 messages at once",
        r"drained 900 of 900 in [\d.]+ s .*; 0 dead letters",
        rf"fleet page p95: idle {NUMBER} ms .* during the storm {NUMBER} ms",
    ],
    "bench_readings_year.py": [
        DB.format("readingsyear"),
        rf"built {NUMBER} rows .* over 3 months",
        *(rf"^  {label} +month +{NUMBER} ms +year +{NUMBER} ms +x{NUMBER}"
          for label in ("fleet page", "chart, newest 500 points")),
        rf"ingest \(storage path\) +month +{NUMBER} msg/s year +{NUMBER} msg/s",
    ],
    "bench_planner.py": [
        rf"read everything +18 +{NUMBER} s +1064 +{NUMBER} s",
        rf"write every parameter +12 +{NUMBER} s",
    ],
    "bench_codec.py": [
        rf"decode_block +251 values/pass +{NUMBER} values/s +x{NUMBER} of the floor",
    ],
}


# What each record must say besides the common keys: the work was whole.
RECORD_HOLDS = {
    "bench_ingest_throughput.py": ("all_stored_once", "lost"),
    "bench_reconnect_storm.py": ("lost", "dead_letters"),
    "bench_fleet_page.py": ("queries_equal",),
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_mode_prints_its_figures_and_records_them(script: str,
                                                                   tmp_path: Path) -> None:
    stdout, lines = quick_run(script, tmp_path / "latest.jsonl", timeout=150)
    assert_prints(stdout, EXPECTED.get(script, []))
    assert_record(lines, script)
    for key in RECORD_HOLDS.get(script, ()):
        expected = 0 if key in ("lost", "dead_letters") else True
        assert all(line[key] == expected for line in lines), (key, lines)
