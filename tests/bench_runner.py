"""Runs a benchmark script in its quick mode for the smoke tests of bench/.

No timing is asserted anywhere (the CPU is shared): a benchmark must exit 0, print every
figure line it is expected to, with numbers in them, and write its record lines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+(?:\.\d+)?"
RECORD_KEYS = ("bench", "value", "unit", "ratio", "baseline", "target", "met")


def quick_run(script: str, results: Path, *, timeout: float) -> tuple[str, list[dict[str, Any]]]:
    """Run ``bench/<script>`` with BENCH_QUICK=1; (its stdout, the record lines it wrote)."""
    env = {**os.environ, "BENCH_QUICK": "1", "PYTHONPATH": str(ROOT),
           "BENCH_RESULTS": str(results)}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = results.read_text() if results.exists() else ""
    return result.stdout, [json.loads(line) for line in text.splitlines()]


def assert_prints(stdout: str, patterns: Sequence[str]) -> None:
    for pattern in patterns:
        assert re.search(pattern, stdout, re.MULTILINE), (pattern, stdout)


def assert_record(lines: list[dict[str, Any]], script: str) -> None:
    """At least one line, each with every key, numbers where numbers belong, quick-marked."""
    assert lines, f"{script} wrote no record line"
    for line in lines:
        missing = [k for k in RECORD_KEYS if k not in line]
        assert not missing, (missing, line)
        assert isinstance(line["value"], int | float), line
        assert line["ratio"] is None or isinstance(line["ratio"], int | float), line
        assert line["baseline"] and line["unit"], line
        assert line["quick"] is True and line["script"] == Path(script).stem, line


def assert_quick_run_prints(script: str, patterns: Sequence[str], *, timeout: float) -> None:
    """Run ``bench/<script>`` quickly (record lines to a scratch file) and check its output."""
    with tempfile.TemporaryDirectory() as scratch:
        stdout, _ = quick_run(script, Path(scratch) / "quick.jsonl", timeout=timeout)
    assert_prints(stdout, patterns)
