"""Bulk meter import from CSV: validate every row first, then save all of it or nothing.

Validation costs a handful of queries whatever the file size (names and codes are looked up in
sets, chunked), so 10,000 rows validate in a second or two and every problem is reported with its
line and column. Saving uses bulk_create/bulk_update in batches. Sites, tenants and labels named
but unknown are created; gateways must exist (a gateway is a physical bus someone configured).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kpm37.profile import profile_names
from meters.choices import GatewayKind
from meters.models import Gateway, Meter, Site
from meters.rows import COLUMNS, REQUIRED_COLUMNS, MeterRow, parse_meter_row

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
CHUNK = 2000  # codes per IN (...) lookup: well under SQLite's variable limit
BATCH = 1000


@dataclass(frozen=True)
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
    """The outcome of validation: parsed rows by line, and every problem found."""

    rows: list[tuple[int, MeterRow]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    existing_codes: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems

    @property
    def updates(self) -> int:
        return sum(1 for _, row in self.rows if row.code in self.existing_codes)

    @property
    def creates(self) -> int:
        return len(self.rows) - self.updates

    @property
    def rows_with_problems(self) -> int:
        """Rows (not the header or the file as a whole) that have at least one problem."""
        return len({p.line for p in self.problems if p.line > 1})


@dataclass(frozen=True)
class ImportResult:
    """What an import did: meters created, changed, and found already as the file says."""

    created: int
    updated: int
    unchanged: int = 0


def no_progress(stage: str, done: int, total: int) -> None:
    """Default progress callback: report nothing."""


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in slices of ``size`` (for IN lookups and batched writes)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def read_csv(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[ImportProblem]]:
    """Decode and split the file; problems are encoding, emptiness, columns and field counts."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = (f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                  f"{exc.start}); save it as 'CSV UTF-8'")
        return [], [ImportProblem(0, "", reason)]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as exc:
        return [], [ImportProblem(1, "", f"the header is not readable CSV: {exc}")]
    if not any(header):
        return [], [ImportProblem(1, "", "the file is empty; expected a header line: "
                                         + ",".join(COLUMNS))]
    problems = [ImportProblem(1, name, "missing column") for name in REQUIRED_COLUMNS
                if name not in header]
    problems += [ImportProblem(1, name, f"unknown column; expected {','.join(COLUMNS)}")
                 for name in header if name not in COLUMNS]
    if problems:
        return [], problems
    try:
        return _rows(reader, header)
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KB limit
        return [], [ImportProblem(reader.line_num, "", f"is not readable CSV: {exc}")]


def _rows(reader: Any, header: list[str]
          ) -> tuple[list[tuple[int, dict[str, str]]], list[ImportProblem]]:
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[ImportProblem] = []
    for values in reader:
        line = reader.line_num  # the line a row ends on, right even with quoted newlines
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            problems.append(ImportProblem(line, "", f"has {len(values)} fields, the header has "
                                                    f"{len(header)}"))
            continue
        rows.append((line, dict(zip(header, values, strict=True))))
    if not rows and not problems:
        problems.append(ImportProblem(2, "", "the file has a header but no meters"))
    return rows, problems


def meter_import_validate(*, data: bytes, progress: Progress = no_progress) -> ImportPlan:
    """Check the whole file against the format and the database; saves nothing."""
    raw_rows, problems = read_csv(data)
    plan = ImportPlan(problems=problems)
    profiles = set(profile_names())
    first_line_of: dict[str, int] = {}
    for index, (line, raw) in enumerate(raw_rows):
        row, errors = parse_meter_row(raw, profiles)
        plan.problems += [ImportProblem(line, column, msg) for column, msg in errors.items()]
        if row.code in first_line_of and "code" not in errors:
            reason = f"duplicate: meter {row.code} is already on line {first_line_of[row.code]}"
            plan.problems.append(ImportProblem(line, "code", reason))
        first_line_of.setdefault(row.code, line)
        plan.rows.append((line, row))
        if index % 1000 == 0:
            progress("validate", index, len(raw_rows))
    _check_against_database(plan)
    _check_site_zones(plan)
    progress("validate", len(raw_rows), len(raw_rows))
    return plan


def existing_codes(codes: list[str]) -> dict[str, int]:
    """Meter ids by code for the codes that are already in the inventory."""
    found: dict[str, int] = {}
    for chunk in chunks(codes):
        found.update(Meter.objects.filter(code__in=chunk).values_list("code", "id"))
    return found


def gateways_by_name(names: set[str]) -> tuple[dict[str, int], set[str]]:
    """Ids of the named gateways that exist, and which of them are dial-in listeners."""
    ids: dict[str, int] = {}
    dial_in: set[str] = set()
    for name, gateway_id, kind in Gateway.objects.filter(name__in=names).values_list(
            "name", "id", "kind"):
        ids[name] = gateway_id
        if kind == GatewayKind.DIAL_IN:
            dial_in.add(name)
    return ids, dial_in


def _check_against_database(plan: ImportPlan) -> None:
    gateways, own_links = gateways_by_name({row.gateway for _, row in plan.rows if row.gateway})
    file_codes = {row.code for _, row in plan.rows}
    plan.existing_codes = set(existing_codes(sorted(file_codes)))
    # Bus positions held by meters the file does not mention (those it mentions may move).
    held = {(gw, addr): code for code, gw, addr in Meter.objects.filter(
        gateway_id__in=gateways.values()).values_list("code", "gateway_id", "address")
        if code not in file_codes}
    taken: dict[tuple[int, int], int] = {}
    for line, row in plan.rows:
        if row.gateway and row.gateway not in gateways:
            plan.problems.append(ImportProblem(
                line, "gateway", f"unknown gateway {row.gateway!r} (gateways must exist first)"))
            continue
        if not row.gateway or row.address is None or row.gateway in own_links:
            continue  # a dial-in meter's unit id may repeat: it has a link of its own
        _check_position(plan, line, row, (gateways[row.gateway], row.address), held, taken)


def _check_site_zones(plan: ImportPlan) -> None:
    """A site's zone is one: rows must agree, and a stored site keeps the zone it has."""
    stored = dict(Site.objects.filter(name__in={r.site for _, r in plan.rows if r.timezone})
                  .values_list("name", "timezone"))
    first: dict[str, tuple[int, str]] = {}
    for line, row in plan.rows:
        if not row.timezone:
            continue
        if row.site in stored and stored[row.site] != row.timezone:
            plan.problems.append(ImportProblem(line, "timezone", (
                f"site {row.site!r} is in {stored[row.site]}, not {row.timezone} (change a "
                "site's zone on its form, not by import)")))
        elif row.site in first and first[row.site][1] != row.timezone:
            plan.problems.append(ImportProblem(line, "timezone", (
                f"site {row.site!r} is given {first[row.site][1]} on line {first[row.site][0]}")))
        first.setdefault(row.site, (line, row.timezone))


def _check_position(plan: ImportPlan, line: int, row: MeterRow, position: tuple[int, int],
                    held: dict[tuple[int, int], str], taken: dict[tuple[int, int], int]) -> None:
    where = f"address {row.address} on gateway {row.gateway}"
    if position in held:
        plan.problems.append(ImportProblem(line, "address",
                                           f"{where} is already used by meter {held[position]}"))
    elif position in taken:
        plan.problems.append(ImportProblem(line, "address",
                                           f"{where} is also given on line {taken[position]}"))
    else:
        taken[position] = line
