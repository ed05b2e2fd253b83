"""CSV export of a meter's history: times as on the pages (site zone, named), human headers.

Written row by row to a streaming response, so a long range never sits in memory. The first
two columns are the local time as people read it (the ``{% when %}`` format) and the UTC time
for machines; every quantity column is headed by its label and unit, values at resolution.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from django.db.models import QuerySet

from meters import names
from meters.local_time import format_local
from meters.telemetry.models import Reading

EXPORT_MAX_ROWS = 100_000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def history_csv_lines(readings: QuerySet[Reading], chosen: list[str],
                      zone: tzinfo) -> Iterator[str]:
    """The CSV lines: a header, then one line per reading, oldest first."""
    writer: Any = csv.writer(_Echo())
    header = [f"Time ({getattr(zone, 'key', 'UTC')})", "Time (UTC, ISO 8601)"]
    header += [f"{names.label(n)} ({names.unit(n)})" if names.unit(n) else names.label(n)
               for n in chosen]
    yield writer.writerow(header)
    rows = readings.order_by("time").only("time", "values")[:EXPORT_MAX_ROWS]
    for reading in rows.iterator(chunk_size=2000):
        yield writer.writerow([format_local(reading.time, zone), reading.time.isoformat()] + [
            "" if n not in reading.values else names.rounded(n, reading.values[n])
            for n in chosen])
