"""Repeats of open alarms, summed over one batch and written together.

In an alarm storm every message repeats the same open alarms: one ``UPDATE`` per repeat made
ingest slower than the fleet needs. ``Repeats`` adds them up per alarm (count, latest time,
message and details) and ``write`` stores them in one ``UPDATE ... FROM (VALUES ...)`` per
``CHUNK`` alarms on PostgreSQL, one ``UPDATE`` per alarm elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F

from meters.alarms.models import Alarm

CHUNK = 1000
MESSAGE_MAX = 300  # Alarm.message max_length


@dataclass
class _Tally:
    n: int
    at: datetime
    message: str
    details: dict[str, Any]


class Repeats:
    """Repeats seen so far, per alarm id; the latest one's time, message and details win."""

    def __init__(self) -> None:
        self._by_id: dict[int, _Tally] = {}

    def add(self, alarm_id: int, *, at: datetime, message: str, details: dict[str, Any]) -> None:
        """Count one more repeat of ``alarm_id``, as of ``at``."""
        tally = self._by_id.get(alarm_id)
        if tally is None:
            self._by_id[alarm_id] = _Tally(1, at, message[:MESSAGE_MAX], details)
            return
        tally.n += 1
        tally.at, tally.message, tally.details = at, message[:MESSAGE_MAX], details

    def __len__(self) -> int:
        return len(self._by_id)

    def write(self, chunk: int = CHUNK) -> None:
        """Store every tally, ``chunk`` alarms a statement on PostgreSQL.

        Ids go in ascending order so concurrent ingest processes lock rows alike (no deadlock).
        """
        items = sorted(self._by_id.items())
        if connection.vendor != "postgresql":
            for alarm_id, t in items:
                Alarm.objects.filter(pk=alarm_id).update(
                    count=F("count") + t.n, last_seen_at=t.at, message=t.message,
                    details=t.details)
            return
        for start in range(0, len(items), chunk):
            _update_chunk(items[start:start + chunk])


def _update_chunk(items: list[tuple[int, _Tally]]) -> None:
    table = connection.ops.quote_name(Alarm._meta.db_table)
    row = "(%s::bigint, %s::integer, %s::timestamptz, %s::varchar, %s::text)"
    sql = (f"UPDATE {table} AS a SET count = a.count + v.n, last_seen_at = v.at, "  # noqa: S608
           f"message = v.message, details = v.details::jsonb "  # (only our own names above)
           f"FROM (VALUES {', '.join([row] * len(items))}) AS v(id, n, at, message, details) "
           f"WHERE a.id = v.id")
    params: list[Any] = []
    for alarm_id, t in items:
        params += [alarm_id, t.n, t.at, t.message, json.dumps(t.details)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
