"""``manage.py import_meters FILE.csv [--dry-run]``: validate all rows, then import all or none."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from meters.csv_import import meter_import_validate
from meters.csv_save import ImportRefused, meter_import_apply


class ProgressLine:
    """A percentage on stderr, rewritten in place; silent for small files."""

    def __init__(self, stream: Any, minimum_rows: int = 2000) -> None:
        self.stream, self.minimum_rows, self.last = stream, minimum_rows, -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < self.minimum_rows:
            return
        percent = 100 * done // max(total, 1)
        if percent != self.last:
            self.last = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{stage:<8} [{bar:<25}] {percent:3d}% ({done}/{total})")
            if done >= total:
                self.stream.write("\n")
                self.last = -1
            self.stream.flush()


class Command(BaseCommand):
    help = ("Import meters from a CSV file with the columns code,profile,transport,gateway,"
            "address,site,tenant,labels,ct_ratio,pt_ratio. Nothing is saved if any row is bad.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate only, save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"cannot read {path}: no such file")
        progress = ProgressLine(sys.stderr)
        started = time.monotonic()
        try:
            plan = meter_import_validate(path=path, progress=progress)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        if plan.problem_count:
            self._fail(plan.problems, plan.problem_count)
        self.stdout.write(f"{plan.row_count} rows valid: {plan.creates} new, "
                          f"{plan.updates} to update")
        if options["dry_run"]:
            self.stdout.write("dry run: nothing saved")
            return
        try:
            result = meter_import_apply(plan=plan, progress=progress)
        except ImportRefused as exc:
            self._fail(exc.problems, len(exc.problems))
        self.stdout.write(self.style.SUCCESS(
            f"imported: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged "
            f"in {time.monotonic() - started:.1f} s"))

    def _fail(self, problems: list[Any], count: int) -> None:
        for problem in problems:
            self.stderr.write(str(problem))
        if count > len(problems):
            self.stderr.write(f"... and {count - len(problems)} more")
        raise CommandError(f"{count} problem(s); nothing was imported", returncode=1)
