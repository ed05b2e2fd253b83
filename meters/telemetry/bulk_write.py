"""The big writes (and the one big read) of a batch, as PostgreSQL does them fastest.

Profiling ``ingest_mqtt`` showed most of a batch's time in ``bulk_create`` of readings and
latest states: Django quotes every JSON object into the SQL text on the client (re.sub over
each character of 500 JSON documents), and builds one model instance per message. Here rows are
plain tuples, streamed with COPY into a temporary table (kept for the session, emptied at each
commit) and moved with one ``INSERT ... SELECT``:

- ``readings_insert``: ``ON CONFLICT DO NOTHING`` keeps dedupe on the unique (meter, source,
  time) when two ingest processes store the same redelivered message at once;
- ``latest_upsert``: one row per meter per batch, ``ON CONFLICT (meter) DO UPDATE``.

- ``stored_readings``: the readings already stored under a batch's (meter, time) keys, as
  one join against two arrays (one OR clause a meter made planning alone cost a third of a
  batch, and more with every month partition).

Other databases (SQLite in development) get ``bulk_create`` and ORM filters. All run inside
the caller's transaction, so ack-after-commit holds as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from meters.telemetry.models import LatestState, Reading

ReadingRow = tuple[int, str, datetime, datetime, dict[str, Any], dict[str, Any]]
"""(meter id, source, time, received at, values, extra)"""
LatestRow = tuple[int, dict[str, Any], datetime]
"""(meter id, values, updated at)"""

_READING_IN = """CREATE TEMPORARY TABLE IF NOT EXISTS kpm_reading_in (
    meter_id bigint, source varchar(40), time timestamptz, received_at timestamptz,
    values jsonb, extra jsonb) ON COMMIT DELETE ROWS"""
_LATEST_IN = """CREATE TEMPORARY TABLE IF NOT EXISTS kpm_latest_in (
    meter_id bigint, values jsonb, updated_at timestamptz) ON COMMIT DELETE ROWS"""


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _copy(cursor: Any, create: str, table: str, columns: str, rows: Sequence[tuple[Any, ...]]
          ) -> None:
    cursor.execute(create)
    # Emptied at commit; and here, for a second call in one transaction (DELETE, not
    # TRUNCATE: no new file and catalog rows for every batch).
    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (our own temporary table)
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def readings_insert(rows: Sequence[ReadingRow]) -> int:
    """Insert readings, skipping any (meter, source, time) already stored; rows inserted."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        made = Reading.objects.bulk_create(
            [Reading(meter_id=m, source=s, time=t, received_at=r, values=v, extra=e)
             for m, s, t, r, v, e in rows], batch_size=500, ignore_conflicts=True)
        return len(made)
    table = connection.ops.quote_name(Reading._meta.db_table)
    columns = "meter_id, source, time, received_at, values, extra"
    with connection.cursor() as cursor:
        _copy(cursor, _READING_IN, "kpm_reading_in", columns,
              [(m, s, t, r, _dumps(v), _dumps(e)) for m, s, t, r, v, e in rows])
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
                       "FROM kpm_reading_in ON CONFLICT DO NOTHING")
        return int(cursor.rowcount)


def latest_upsert(rows: Sequence[LatestRow]) -> None:
    """Write each meter's latest state (one row per meter), replacing what was there."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        LatestState.objects.bulk_create(
            [LatestState(meter_id=m, values=v, updated_at=u) for m, v, u in rows],
            update_conflicts=True, unique_fields=["meter"],
            update_fields=["values", "updated_at"])
        return
    table = connection.ops.quote_name(LatestState._meta.db_table)
    with connection.cursor() as cursor:
        _copy(cursor, _LATEST_IN, "kpm_latest_in", "meter_id, values, updated_at",
              [(m, _dumps(v), u) for m, v, u in rows])
        cursor.execute(f"INSERT INTO {table} (meter_id, values, updated_at) "  # noqa: S608
                       "SELECT meter_id, values, updated_at FROM kpm_latest_in "
                       "ON CONFLICT (meter_id) DO UPDATE SET values = EXCLUDED.values, "
                       "updated_at = EXCLUDED.updated_at")


Stored = dict[tuple[int, str, datetime], dict[str, Any]]
"""(meter id, source, time) -> the stored values and extra, merged"""


def stored_readings(keys: set[tuple[int, datetime]], sources: set[str]) -> Stored:
    """The stored readings at exactly these (meter id, time) keys from these sources."""
    if not keys:
        return {}
    if connection.vendor != "postgresql":
        where = Q()
        for meter_id, at in keys:
            where |= Q(meter_id=meter_id, time=at)
        rows = Reading.objects.filter(where, source__in=sources).values_list(
            "meter_id", "source", "time", "values", "extra")
        return {(m, s, t): {**extra, **values} for m, s, t, values, extra in rows}
    table = connection.ops.quote_name(Reading._meta.db_table)
    meter_ids, times = zip(*sorted(keys), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.meter_id, r.source, r.time, r.values, r.extra FROM {table} r "  # noqa: S608
            "JOIN unnest(%s::bigint[], %s::timestamptz[]) AS k(meter_id, time) "
            "ON r.meter_id = k.meter_id AND r.time = k.time WHERE r.source = ANY(%s)",
            [list(meter_ids), list(times), sorted(sources)])
        return {(m, s, t): {**_loads(extra), **_loads(values)}
                for m, s, t, values, extra in cursor.fetchall()}


def _loads(value: Any) -> dict[str, Any]:
    """Django reads jsonb as text (its JSONField decodes); a raw cursor gets the same."""
    return dict(json.loads(value)) if isinstance(value, str | bytes) else dict(value)
