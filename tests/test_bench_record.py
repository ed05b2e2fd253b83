"""The performance record: lines a benchmark writes, and the README table rendered from them."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "latest.jsonl"
    monkeypatch.setenv("BENCH_RESULTS", str(path))
    return path


def test_record_appends_one_json_line_per_figure_and_prints_it(
        results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = _bench_module("record")
    record.record("demo_a", value=1234.5678, unit="msg/s", ratio=0.41234, baseline="bare",
                  target="ratio >= 0.4", met=True, lost=0)
    record.record("demo_b", value=2, unit="s", ratio=None, baseline="none")
    lines = [json.loads(t) for t in results.read_text().splitlines()]
    assert [line["bench"] for line in lines] == ["demo_a", "demo_b"]
    assert lines[0]["value"] == 1235.0 and lines[0]["ratio"] == 0.4123  # 4 significant figures
    assert lines[0]["lost"] == 0 and lines[0]["met"] is True and lines[1]["ratio"] is None
    assert capsys.readouterr().out.count("RECORD {") == 2


def test_a_half_written_or_foreign_line_is_skipped_when_reading(results: Path) -> None:
    record = _bench_module("record")
    record.record("whole", value=1, unit="s", ratio=1.0, baseline="x")
    with results.open("a") as out:
        out.write('{"bench": "no value"}\n{"bench": "cut off", "val')
    assert [line["bench"] for line in record.read_lines(results)] == ["whole"]


def test_the_readme_table_shows_every_line_the_machine_and_misses(results: Path,
                                                                    tmp_path: Path) -> None:
    record, table = _bench_module("record"), _bench_module("table")
    record.record("ingest_throughput", value=4321.0, unit="msg/s", ratio=0.35,
                  baseline="bare subscriber", target="ratio >= 0.4", met=False)
    record.record("fleet_page_10k", value=92.3, unit="ms p50", ratio=1.08, baseline="100 meters",
                  target="ratio <= 1.5", met=True)
    text = table.render(record.read_lines(results),
                        {"host": "box", "cpu": "Some CPU", "cores": 2, "memory_gib": 24.0,
                         "python": "3.11.2", "at": "2026-11-29T17:30:00+00:00"})
    assert "Some CPU, 2 cores, 24.0 GiB" in text and "box" in text
    rows = [r for r in text.splitlines() if r.startswith("| ingest") or r.startswith("| fleet")]
    assert rows[0].split(" | ")[1:] == ["4,321", "msg/s", "0.35", "bare subscriber",
                                        "ratio >= 0.4", "**missed** |"]
    assert rows[1].endswith("| met |")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\nbefore\n{table.START}\nold table\n{table.END}\nafter\n")
    table.replace_in(readme, text)
    updated = readme.read_text()
    assert "old table" not in updated and "4,321" in updated
    assert updated.startswith("# x\nbefore\n") and updated.endswith(f"{table.END}\nafter\n")


def test_a_readme_without_markers_is_refused_not_overwritten(tmp_path: Path) -> None:
    table = _bench_module("table")
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="markers"):
        table.replace_in(readme, "| table |\n")
    assert readme.read_text() == "no markers here\n"
