"""Bulk meter import from CSV: validate every row first, then save all of it or nothing.

The file is streamed, never held: rows are decoded, parsed and checked in chunks of 2,000 (a
handful of queries per chunk), and what the plan keeps is bounded apart from one small entry per
valid meter code (to find duplicates): the first rows for the preview, counts, and the first
problems (by line) with the number of all of them. Saving streams the file again
(csv_save.py). Sites, tenants and labels named but unknown are created (if the importing user
may create them); gateways must exist (a gateway is a physical bus someone configured).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from kpm37.profile import profile_names
from meters.csv_checks import DatabaseChecks
from meters.import_plan import (
    PREVIEW_ROWS,
    ImportPlan,
    ImportProblem,
    Progress,
    chunks,
    no_progress,
    read_rows,
)
from meters.rows import parse_meter_row


def _opener(data: bytes | None, path: Path | None) -> Callable[[], IO[bytes]]:
    if path is not None:
        return lambda: path.open("rb")
    return lambda: io.BytesIO(data or b"")


def meter_import_validate(*, data: bytes | None = None, path: Path | None = None,
                          progress: Progress = no_progress, user: Any = None) -> ImportPlan:
    """Check the whole file (``data`` or the file at ``path``) against the format and the
    database; saves nothing.

    ``user`` (None on the command line) must be allowed to create the sites, tenants and
    labels the file names that do not exist yet."""
    plan = ImportPlan(open_source=_opener(data, path))
    checks = DatabaseChecks(plan, user)
    profiles = set(profile_names())
    size = path.stat().st_size if path is not None else len(data or b"")
    with plan.open_source() as binary:
        for chunk in chunks(read_rows(binary, plan)):
            parsed = []
            for line, raw in chunk:
                row, errors = parse_meter_row(raw, profiles)
                for column, message in errors.items():
                    plan.add_problem(ImportProblem(line, column, message))
                plan.row_count += 1
                if len(plan.preview) < PREVIEW_ROWS:
                    plan.preview.append((line, row))
                parsed.append((line, row, set(errors)))
            checks.check(parsed)
            progress("validate", min(binary.tell(), size), size)
    checks.finish()
    progress("validate", size, size)
    return plan
