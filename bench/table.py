"""Render the record (bench/results/latest.jsonl) as the Markdown table the README shows.

    python bench/table.py                 # print the table
    python bench/table.py --readme README.md   # replace the table between the bench markers

The machine the figures ran on comes from bench/results/machine.json, written by run.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from record import RESULTS_DIR, read_lines

START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
VERDICT = {True: "met", False: "**missed**", None: ""}


def _number(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"
    return f"{int(x):,}" if isinstance(x, int | float) else str(x)


def _machine_line(info: dict[str, Any]) -> str:
    parts = [info.get("cpu", "unknown CPU"), f"{info.get('cores', '?')} cores",
             f"{info.get('memory_gib', '?')} GiB", f"Python {info.get('python', '?')}"]
    if "postgres" in info:
        parts.append(f"PostgreSQL {info['postgres']}")
    if "load_1min" in info:
        parts.append(f"load {info['load_1min']:.1f} at start")
    note = info.get("note", "")
    return (f"Run {info.get('at', '?')} (UTC) on {info.get('host', '?')}: " + ", ".join(parts)
            + (f". {note}" if note else "."))


def render(lines: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The Markdown table of ``lines`` under one line naming the machine."""
    out = [_machine_line(info), "",
           "| bench | value | unit | ratio | ratio of | target | verdict |",
           "|---|---:|---|---:|---|---|---|"]
    for line in lines:
        cells = [line["bench"], _number(line["value"]), line["unit"], _number(line["ratio"]),
                 line["baseline"], line.get("target", ""), VERDICT[line.get("met")]]
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def replace_in(readme: Path, table: str) -> None:
    """Put ``table`` between the markers of ``readme`` (they must be there)."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: no {START} ... {END} markers to put the table between")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}{END}{tail}", encoding="utf-8")


def main(argv: list[str]) -> int:
    lines = read_lines(RESULTS_DIR / "latest.jsonl")
    machine_file = RESULTS_DIR / "machine.json"
    info = json.loads(machine_file.read_text()) if machine_file.exists() else {}
    table = render(lines, info)
    if "--readme" in argv:
        replace_in(Path(argv[argv.index("--readme") + 1]), table)
    else:
        print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
