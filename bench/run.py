"""`make bench`: run every bench/bench_*.py in its own process, one after another.

Each benchmark measures its candidates side by side in the same run and prints ratios, so the
figures hold on a shared, noisy machine where absolute times would not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if not scripts:
        print("no benchmarks in bench/ (bench_*.py)")
        return 1
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        started = time.monotonic()
        # The project root on the path: benchmarks import kpm37 and the Django apps.
        env = {**os.environ, "PYTHONPATH": str(BENCH_DIR.parent)}
        result = subprocess.run([sys.executable, str(script)], cwd=BENCH_DIR.parent, env=env,
                                check=False)
        print(f"   ({time.monotonic() - started:.1f} s)\n", flush=True)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
