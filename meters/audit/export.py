"""The audit trail as CSV, streamed row by row so an export of millions stays in small memory.

Cells that a spreadsheet would run as a formula (a user agent or a name starting with ``=``,
``+``, ``-``, ``@``) are prefixed with an apostrophe: the trail holds text typed by outsiders.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from meters.audit.models import AuditRecord

HEADER = ["id", "at_utc", "user", "via", "ip", "user_agent", "process", "kind", "kind_label",
          "object_type", "object_id", "object", "meter", "result", "detail", "before", "after",
          "request_id"]
CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like that hands back what is written, for csv.writer over a stream."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _row(record: AuditRecord) -> list[str]:
    cells = [record.pk, record.at.astimezone(UTC).isoformat(), record.actor_name,
             record.via, record.ip, record.user_agent, record.process, record.kind,
             record.kind_label, record.object_type, record.object_id, record.object_repr,
             record.meter_code, record.result, record.detail,
             "" if record.before is None else json.dumps(record.before, sort_keys=True),
             "" if record.after is None else json.dumps(record.after, sort_keys=True),
             record.request_id]
    return [_safe(cell) for cell in cells]


def _in_batches(records: QuerySet[AuditRecord]) -> Iterator[AuditRecord]:
    """Newest first, CHUNK rows a query, each batch continuing after the last row seen.

    Keyset pages rather than a server-side cursor: nothing stays open on the connection
    between batches (a client may stop reading half-way), and it works behind a pooler."""
    ordered = records.order_by("-at", "-id")
    last: AuditRecord | None = None
    while True:
        page = ordered if last is None else ordered.filter(
            Q(at__lt=last.at) | Q(at=last.at, id__lt=last.pk))
        batch = list(page[:CHUNK])
        yield from batch
        if len(batch) < CHUNK:
            return
        last = batch[-1]


def csv_lines(records: QuerySet[AuditRecord]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for record in _in_batches(records):
        yield writer.writerow(_row(record))


def csv_response(records: QuerySet[AuditRecord]) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(csv_lines(records), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
