"""The performance record: every benchmark writes its figures as JSON lines through ``record``.

One line per figure, ``{"bench", "value", "unit", "ratio", "baseline", ...}``, appended to
``bench/results/latest.jsonl`` (``BENCH_RESULTS`` overrides the path; a quick run, BENCH_QUICK=1,
goes to ``bench/results/quick.jsonl`` unless told otherwise so it never overwrites the record)
and printed. ``ratio`` is always measured side by side in the same run against ``baseline``;
``target`` says what the ratio (or value) should be and ``met`` whether it is.

Adding a benchmark is one file: ``bench/bench_<name>.py`` whose ``main()`` calls ``record``;
``bench/run.py`` finds it, the smoke test runs its quick mode, the README table shows its lines.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REQUIRED = ("bench", "value", "unit", "ratio", "baseline")


def quick() -> bool:
    """Whether this is the small smoke-test run (``--quick`` or BENCH_QUICK=1)."""
    return "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"


def results_path() -> Path:
    """Where lines go: BENCH_RESULTS, else latest.jsonl (quick.jsonl for quick runs)."""
    if os.environ.get("BENCH_RESULTS"):
        return Path(os.environ["BENCH_RESULTS"])
    return RESULTS_DIR / ("quick.jsonl" if quick() else "latest.jsonl")


def record(bench: str, *, value: float, unit: str, ratio: float | None, baseline: str,
           target: str = "", met: bool | None = None, **extra: Any) -> dict[str, Any]:
    """Append one figure to the record and print it; returns the line as a dict.

    ``target`` is a human rule such as "ratio >= 0.4"; ``met`` is the bench's own verdict of
    it (None when there is no target). ``extra`` holds any further figures (p95, queries...).
    """
    line: dict[str, Any] = {
        "bench": bench, "value": _round(value), "unit": unit,
        "ratio": None if ratio is None else _round(ratio), "baseline": baseline,
        "target": target, "met": met, "quick": quick(),
        "script": Path(sys.argv[0]).stem, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **{k: _round(v) if isinstance(v, float) else v for k, v in extra.items()},
    }
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(line, ensure_ascii=False)
    with path.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    print(f"RECORD {text}", flush=True)
    return line


def _round(x: float) -> float:
    """Four significant figures: more would be noise on a shared machine."""
    return float(f"{x:.4g}") if x == x and abs(x) != float("inf") else x


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every well-formed line of a results file (a half-written last line is skipped)."""
    if not path.exists():
        return []
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict) and all(k in line for k in REQUIRED):
            lines.append(line)
    return lines


def machine() -> dict[str, Any]:
    """What the figures ran on: CPU, cores, memory, load, services' versions."""
    info: dict[str, Any] = {"host": platform.node(), "python": platform.python_version(),
                            "cores": os.cpu_count(), "os": platform.platform(terse=True),
                            "at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpu.splitlines()
                           if line.startswith("model name"))
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        info["memory_gib"] = round(mem_kb / 2**20, 1)
        info["load_1min"] = os.getloadavg()[0]
    except (OSError, StopIteration, ValueError):
        pass
    return info
