"""An import's plan and the streamed reading of its file (see csv_import.py, csv_save.py).

The file is never held: ``read_rows`` decodes and splits it row by row, and a plan keeps counts,
the first rows for the preview and the first problems by line (with the number of all of them),
plus the way to open the file again, so saving streams it once more.
"""

from __future__ import annotations

import csv
import heapq
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from kpm37.profile import profile_names
from meters.choices import GatewayKind
from meters.models import Gateway
from meters.rows import COLUMNS, REQUIRED_COLUMNS, MeterRow, parse_meter_row

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
CHUNK = 2000  # rows per chunk, and codes per IN (...) lookup: well under SQLite's limit
BATCH = 1000
PREVIEW_ROWS = 10
MAX_PROBLEMS = 100  # problems kept (the first by line); all of them are counted


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One reason the file cannot be imported; ``line`` is the file line (header is line 1)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportPlan:
    """The outcome of validation: counts, the first rows and problems, and how to read the
    rows again for saving (``rows()``)."""

    open_source: Callable[[], IO[bytes]] = field(repr=False, default=lambda: io.BytesIO())
    row_count: int = 0
    updates: int = 0
    preview: list[tuple[int, MeterRow]] = field(default_factory=list)
    problem_count: int = 0
    _worst: list[tuple[int, int, ImportProblem]] = field(default_factory=list, repr=False)
    _bad_lines: bytearray = field(default_factory=bytearray, repr=False)  # a bit per line

    def add_problem(self, problem: ImportProblem) -> None:
        """Count ``problem``; keep it if it is among the MAX_PROBLEMS first by line."""
        self.problem_count += 1
        if problem.line > 1:
            byte, bit = divmod(problem.line, 8)
            if byte >= len(self._bad_lines):
                self._bad_lines.extend(bytes(byte + 1 - len(self._bad_lines)))
            self._bad_lines[byte] |= 1 << bit
        entry = (-problem.line, -self.problem_count, problem)  # a max-heap of the kept ones
        if len(self._worst) < MAX_PROBLEMS:
            heapq.heappush(self._worst, entry)
        else:
            heapq.heappushpop(self._worst, entry)

    @property
    def problems(self) -> list[ImportProblem]:
        """The kept problems in file order (``problem_count`` says how many there are)."""
        return [entry[2] for entry in sorted(self._worst, key=lambda e: (-e[0], -e[1]))]

    @property
    def rows_with_problems(self) -> int:
        """Rows (not the header or the file as a whole) that have at least one problem."""
        return sum(bin(byte).count("1") for byte in self._bad_lines)

    @property
    def more_problems(self) -> int:
        return self.problem_count - len(self._worst)

    @property
    def ok(self) -> bool:
        return self.row_count > 0 and self.problem_count == 0

    @property
    def creates(self) -> int:
        return self.row_count - self.updates

    def rows(self) -> Iterator[tuple[int, MeterRow]]:
        """Every row of the file, parsed again from the source (for saving)."""
        profiles = set(profile_names())
        with self.open_source() as binary:
            for line, raw in read_rows(binary, ImportPlan()):
                yield line, parse_meter_row(raw, profiles)[0]


@dataclass(frozen=True)
class ImportResult:
    """What an import did: meters created, changed, and found already as the file says."""

    created: int
    updated: int
    unchanged: int = 0


def no_progress(stage: str, done: int, total: int) -> None:
    """Default progress callback: report nothing."""


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` (any iterable, consumed lazily) in lists of at most ``size``."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _header(reader: Any, plan: ImportPlan) -> list[str] | None:
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as exc:
        plan.add_problem(ImportProblem(1, "", f"the header is not readable CSV: {exc}"))
        return None
    if not any(header):
        plan.add_problem(ImportProblem(1, "", "the file is empty; expected a header line: "
                                              + ",".join(COLUMNS)))
        return None
    problems = [ImportProblem(1, name, "missing column") for name in REQUIRED_COLUMNS
                if name not in header]
    problems += [ImportProblem(1, name, f"unknown column; expected {','.join(COLUMNS)}")
                 for name in header if name not in COLUMNS]
    for problem in problems:
        plan.add_problem(problem)
    return None if problems else header


def read_rows(binary: IO[bytes], plan: ImportPlan) -> Iterator[tuple[int, dict[str, str]]]:
    """Decode and split the file row by row; encoding, emptiness, columns and field counts
    become problems of ``plan``. Nothing but the current row is held."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    seen = False
    try:
        header = _header(reader, plan)
        if header is None:
            return
        for values in reader:
            line = reader.line_num  # the line a row ends on, right even with quoted newlines
            if not any(value.strip() for value in values):
                continue
            seen = True
            if len(values) != len(header):
                plan.add_problem(ImportProblem(line, "", f"has {len(values)} fields, the "
                                                         f"header has {len(header)}"))
                continue
            yield line, dict(zip(header, values, strict=True))
    except UnicodeDecodeError as exc:
        seen = True
        plan.add_problem(ImportProblem(0, "", (
            f"the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} near line "
            f"{reader.line_num + 1}); save it as 'CSV UTF-8'")))
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KB limit
        seen = True
        plan.add_problem(ImportProblem(reader.line_num, "", f"is not readable CSV: {exc}"))
    finally:
        text.detach()  # leave the binary stream to its owner
    if not seen:
        plan.add_problem(ImportProblem(2, "", "the file has a header but no meters"))


def gateways_by_name(names: set[str]) -> tuple[dict[str, int], set[str]]:
    """Ids of the named gateways that exist, and which of them are dial-in listeners."""
    ids: dict[str, int] = {}
    dial_in: set[str] = set()
    for chunk in chunks(sorted(names)):
        for name, gateway_id, kind in Gateway.objects.filter(name__in=chunk).values_list(
                "name", "id", "kind"):
            ids[name] = gateway_id
            if kind == GatewayKind.DIAL_IN:
                dial_in.add(name)
    return ids, dial_in
