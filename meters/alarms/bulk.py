"""Alarm writes of one batch, summed up and written together.

In an alarm storm every message repeats the same open alarms: one ``UPDATE`` per repeat made
ingest slower than the fleet needs. ``Repeats`` adds them up per alarm (count, latest time,
message and details) and ``write`` stores them in one ``UPDATE ... FROM (VALUES ...)`` per
``CHUNK`` alarms on PostgreSQL, one ``UPDATE`` per alarm elsewhere. ``NewAlarms`` does the same
for alarms the batch opens: repeats fold into the new row, all rows go in one ``bulk_create``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from meters.alarms.choices import AlarmKind
from meters.alarms.models import Alarm
from meters.alarms.rules import Condition
from meters.names import shorten

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

    def add(self, alarm_id: int, *, at: datetime, message: str, details: dict[str, Any],
            n: int = 1) -> None:
        """Count ``n`` more repeats of ``alarm_id``, as of ``at``."""
        tally = self._by_id.get(alarm_id)
        if tally is None:
            self._by_id[alarm_id] = _Tally(n, at, shorten(message, MESSAGE_MAX), details)
            return
        tally.n += n
        tally.at, tally.message, tally.details = at, shorten(message, MESSAGE_MAX), details

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


@dataclass
class NewAlarm:
    """An alarm this batch opens: its latest condition and how often it was seen (count)."""

    meter_id: int
    condition: Condition
    n: int = 1

    def row(self, at: datetime) -> Alarm:
        """The unsaved Alarm row, first and last seen at ``at``."""
        kind = AlarmKind(self.condition.kind)
        return Alarm(meter_id=self.meter_id, kind=kind, source=kind.source,
                     severity=kind.severity, message=shorten(self.condition.message, MESSAGE_MAX),
                     details=self.condition.details, first_seen_at=at, last_seen_at=at,
                     count=self.n)


class NewAlarms:
    """Alarms to open at the end of the batch, per (meter, kind), repeats folded in."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[int, str], NewAlarm] = {}

    def add(self, meter_id: int, condition: Condition) -> None:
        """Open an alarm for ``condition``, or count a repeat of the one already pending."""
        pending = self._by_key.get((meter_id, condition.kind))
        if pending is None:
            self._by_key[(meter_id, condition.kind)] = NewAlarm(meter_id, condition)
        else:
            pending.condition, pending.n = condition, pending.n + 1

    def pop(self, meter_id: int, kind: str) -> NewAlarm | None:
        """Take the pending alarm of ``kind`` out (to write it now), if there is one."""
        return self._by_key.pop((meter_id, kind), None)

    def pending(self) -> list[NewAlarm]:
        return list(self._by_key.values())

    def insert(self, at: datetime) -> list[Alarm] | None:
        """Insert them all (with ids); None, and nothing written, if one lost a race to
        another process opening the same (meter, kind): then the caller goes row by row."""
        rows = [new.row(at) for new in self._by_key.values()]
        if not rows:
            return []
        try:
            with transaction.atomic():
                return Alarm.objects.bulk_create(rows, batch_size=CHUNK)
        except IntegrityError:
            return None
