"""The readings table kept by month on PostgreSQL: one partition a calendar month (UTC).

At 10,000-20,000 meters history grows by some 30 million rows a month. One table that size
makes every index deeper each month and retention a DELETE of 30 million rows (a day of
vacuum and bloat). Partitioned by month of ``time``:

- what the pages read (a meter's recent history, the newest readings) touches the newest
  partitions only, whose size stays that of one month, whatever the table's age;
- retention drops whole months (``DROP TABLE``, instant, no bloat) and deletes row by row only
  inside the one month that straddles the cutoff;
- a default partition catches readings outside the months that exist (a meter whose clock is
  years off), so ingest never fails for want of a partition; ``partition_ensure`` moves such
  rows into their month when that month is created.

``partitions_ensure`` runs with the daily retention task and by ``manage.py
readings_partitions``; it keeps the current month and ``AHEAD`` months ahead in place. The
migration 0007 turned the table into this layout. On SQLite (development without services)
the table stays plain and these functions do nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

from meters.telemetry.models import Reading

TABLE = Reading._meta.db_table
DEFAULT = f"{TABLE}_default"
AHEAD = 3  # months created ahead of now, so month ends never wait on the daily task
NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


@dataclass(frozen=True)
class Partition:
    """One month partition: its table name, first day and the first day of the next month."""

    name: str
    month: date
    rows: int  # the planner's estimate (pg_class.reltuples), not a count

    @property
    def end(self) -> date:
        return next_month(self.month)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def is_partitioned() -> bool:
    """Whether the readings table is partitioned here (PostgreSQL after migration 0007)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
                       " WHERE c.relname = %s AND pg_table_is_visible(c.oid)", [TABLE])
        return cursor.fetchone() is not None


def partitions() -> list[Partition]:
    """The month partitions, oldest first (the default partition is not among them)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, c.reltuples FROM pg_inherits i "
                       "JOIN pg_class c ON c.oid = i.inhrelid "
                       "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [TABLE])
        found = []
        for name, rows in cursor.fetchall():
            match = NAME.match(name)
            if match:
                found.append(Partition(name, date(int(match[1]), int(match[2]), 1),
                                       max(int(rows), 0)))
    return sorted(found, key=lambda p: p.month)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@transaction.atomic
def partition_ensure(month: date) -> bool:
    """Create the partition of ``month`` if missing, taking over its rows from the default
    partition; True if it was created. Built beside the table and attached, because a
    default partition holding rows of that month would refuse ``PARTITION OF``."""
    month = month.replace(day=1)
    name = partition_name(month)
    if any(p.name == name for p in partitions()):
        return False
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime.combine(next_month(month), datetime.min.time(), tzinfo=UTC)
    table, part, default = _quote(TABLE), _quote(name), _quote(DEFAULT)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {part} (LIKE {table} INCLUDING DEFAULTS "
                       "INCLUDING CONSTRAINTS)")
        cursor.execute(f"WITH moved AS (DELETE FROM {default} WHERE time >= %s AND "  # noqa: S608
                       f"time < %s RETURNING *) INSERT INTO {part} SELECT * FROM moved",
                       [start, end])  # (only our own quoted table names in the text)
        cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {part} "
                       "FOR VALUES FROM (%s) TO (%s)", [start, end])
    return True


def partitions_ensure(*, now: datetime, ahead: int = AHEAD) -> list[str]:
    """The partitions of this month and ``ahead`` more exist; returns the ones created."""
    if not is_partitioned():
        return []
    month, created = now.astimezone(UTC).date().replace(day=1), []
    for _ in range(ahead + 1):
        if partition_ensure(month):
            created.append(partition_name(month))
        month = next_month(month)
    return created


@transaction.atomic
def partitions_drop_before(cutoff: datetime) -> dict[str, int]:
    """Drop every month partition wholly older than ``cutoff``: {name: rows it held}.

    The rows are counted first (a few seconds for a month at fleet scale, once a month)
    so retention reports what it removed."""
    limit = cutoff.astimezone(UTC).date()
    dropped = {}
    with connection.cursor() as cursor:
        for part in partitions():
            if part.end <= limit:
                cursor.execute(f"SELECT count(*) FROM {_quote(part.name)}")  # noqa: S608
                dropped[part.name] = int(cursor.fetchone()[0])
                cursor.execute(f"DROP TABLE {_quote(part.name)}")
    return dropped
