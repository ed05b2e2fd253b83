"""Runs a benchmark script in its quick mode for the smoke tests of bench/.

No timing is asserted anywhere (the CPU is shared): a benchmark must exit 0 and print every
figure line it is expected to, with numbers in them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+(?:\.\d+)?"


def assert_quick_run_prints(script: str, patterns: Sequence[str], *, timeout: float) -> None:
    """Run ``bench/<script>`` with BENCH_QUICK=1 and check every pattern matches its output."""
    env = {**os.environ, "BENCH_QUICK": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr
    for pattern in patterns:
        assert re.search(pattern, result.stdout, re.MULTILINE), (pattern, result.stdout)
