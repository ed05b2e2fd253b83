"""`make bench`: run every bench/bench_*.py in its own process, then update the record.

    python bench/run.py                    # all of them; the record starts afresh
    python bench/run.py bench_fleet_page   # only these; their old lines are replaced

Each benchmark measures its candidates side by side in the same run and writes one JSON line
per figure to bench/results/latest.jsonl (see record.py), so the figures hold on a shared,
noisy machine where absolute times would not. At the end the README's table is re-rendered
from the record (table.py) with the machine it ran on (bench/results/machine.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # config.services

from record import RESULTS_DIR, machine, read_lines
from table import render, replace_in

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LATEST = RESULTS_DIR / "latest.jsonl"
TIMEOUT_S = 600  # one benchmark that hangs must not hold `make bench` forever


def _postgres_version() -> str:
    try:
        import psycopg

        from config import services

        host, port = services.POSTGRES
        with psycopg.connect(f"host={host} port={port} user=postgres dbname=postgres",
                             connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except Exception:  # (the version is a nicety of the table, never fatal)
        return "not reachable"


def _run_one(script: Path) -> tuple[bool, int]:
    """(exit 0, lines it added to the record)."""
    before = len(read_lines(LATEST))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_RESULTS": str(LATEST),
           "PYTHONUNBUFFERED": "1"}
    env.pop("BENCH_QUICK", None)
    try:
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, check=False,
                                timeout=TIMEOUT_S)
        ok = result.returncode == 0
    except subprocess.TimeoutExpired:
        print(f"   {script.stem} took longer than {TIMEOUT_S} s: stopped")
        ok = False
    return ok, len(read_lines(LATEST)) - before


def main(argv: list[str]) -> int:
    everything = sorted(BENCH_DIR.glob("bench_*.py"))
    chosen = [s for s in everything if s.stem in argv] if argv else everything
    if not chosen:
        print(f"no benchmarks to run (bench/bench_*.py; asked for {argv or 'all'})")
        return 1
    RESULTS_DIR.mkdir(exist_ok=True)
    kept = [line for line in read_lines(LATEST)
            if argv and line.get("script") not in {s.stem for s in chosen}]
    LATEST.write_text("".join(json.dumps(line) + "\n" for line in kept), encoding="utf-8")
    info = {**machine(), "postgres": _postgres_version()}
    (RESULTS_DIR / "machine.json").write_text(json.dumps(info, indent=1) + "\n")
    failed, started_all = [], time.monotonic()
    for script in chosen:
        print(f"== {script.stem}", flush=True)
        started = time.monotonic()
        ok, added = _run_one(script)
        print(f"   ({time.monotonic() - started:.1f} s, {added} line(s) recorded)\n", flush=True)
        if not ok or not added:
            failed.append(script.name + ("" if ok else " (failed)") + ("" if added else
                                                                        " (no record line)"))
    table = render(read_lines(LATEST), info)
    print(table)
    replace_in(ROOT / "README.md", table)
    print(f"make bench: {time.monotonic() - started_all:.0f} s; record in "
          f"{LATEST.relative_to(ROOT)}, table in README.md")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
