"""``manage.py readings_partitions``: list the readings table's month partitions, create the
ones ahead, or apply retention now (the daily ``purge_old_readings`` task does both)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from meters.telemetry import partitions
from meters.telemetry.services import readings_purge


class Command(BaseCommand):
    help = ("List the month partitions of the readings table (PostgreSQL), with the planner's "
            "row estimates; --ensure creates this month and the next ones, --purge applies "
            "TELEMETRY_RETENTION_DAYS (drops whole old months, deletes the rest).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ensure", action="store_true",
                            help="create the partitions of this month and the months ahead")
        parser.add_argument("--ahead", type=int, default=partitions.AHEAD,
                            help=f"months ahead to create (default {partitions.AHEAD})")
        parser.add_argument("--purge", action="store_true", help="apply retention now")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not partitions.is_partitioned():
            raise CommandError("the readings table is not partitioned here (PostgreSQL only; "
                               "on SQLite retention deletes rows: use --purge with PostgreSQL "
                               "or the purge_old_readings task)")
        if not 0 <= opts["ahead"] <= 24:
            raise CommandError(f"--ahead: must be 0..24 months, got {opts['ahead']}")
        if opts["ensure"]:
            created = partitions.partitions_ensure(now=timezone.now(), ahead=opts["ahead"])
            self.stdout.write(f"created: {', '.join(created) or 'none (all there)'}")
        if opts["purge"]:
            self.stdout.write(f"retention removed {readings_purge():,} rows")
        for part in partitions.partitions():
            self.stdout.write(f"{part.name}  {part.month:%Y-%m}  ~{part.rows:,} rows")
        self.stdout.write(f"{partitions.DEFAULT}  (readings outside every month above)")
