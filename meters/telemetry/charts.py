"""The history chart's data: series with labels, units, resolution and gaps; energy bars.

Times go to the browser as UTC ISO strings; Chart.js draws them on a time axis in the reader's
zone (the luxon adapter's zone option), so the server never shifts a time by hand. A gap longer
than ``GAP_INTERVALS`` reading intervals becomes a null point, which breaks the line: a
five-minute outage shows as a hole, not as one step.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django.db.models import FloatField, Max, Min, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDay, TruncHour

from kpm37.quantities import QUANTITIES, Rate, rate_counter
from meters import names
from meters.telemetry.models import Reading

GAP_INTERVALS = 2.5
KIND_ORDER = ["measurement", "energy", "demand", "temperature", "harmonic", "state"]
KIND_LABELS = {"measurement": "Measurements", "energy": "Energy", "demand": "Demand",
               "temperature": "Temperatures", "harmonic": "Harmonics", "state": "Inputs and relays"}
BUCKETS = {"hour": TruncHour, "day": TruncDay}
RATE_COUNTERS = [rate_counter("import", rate) for rate in Rate]


def quantity_groups() -> list[dict[str, Any]]:
    """The picker's groups, in the live panel's order, each with (name, label + unit)."""
    groups = []
    for kind in KIND_ORDER:
        items = [(q.name, f"{q.label} ({q.unit})" if q.unit else q.label)
                 for q in QUANTITIES.values() if q.kind == kind]
        groups.append({"label": KIND_LABELS[kind], "items": items})
    return groups


def line_series(rows: Iterable[Reading], chosen: list[str],
                interval_s: int) -> list[dict[str, Any]]:
    """One dataset per chosen quantity, oldest first, with null points across gaps."""
    ordered = sorted(rows, key=lambda r: r.time)
    gap = timedelta(seconds=max(interval_s, 1) * GAP_INTERVALS)
    series = []
    for name in chosen:
        points: list[dict[str, Any]] = []
        previous: datetime | None = None
        for row in ordered:
            if name not in row.values:
                continue
            if previous is not None and row.time - previous > gap:
                points.append({"x": (previous + (row.time - previous) / 2).isoformat(),
                               "y": None})
            points.append({"x": row.time.isoformat(), "y": names.rounded(name, row.values[name])})
            previous = row.time
        series.append({"name": name, "label": names.label(name), "unit": names.unit(name),
                       "points": points})
    return series


def energy_bars(readings: QuerySet[Reading], bucket: str, zone: tzinfo) -> dict[str, Any]:
    """Import active energy used per hour or day, per rate: stacked bars, kWh.

    Counters only grow, so a bucket's use is its highest counter minus the previous bucket's
    (the first bucket: its highest minus its lowest); a drop (a reset accepted as a new
    baseline) counts as nothing rather than as negative use. One aggregate query.
    """
    trunc = BUCKETS[bucket]
    counters = {rate: rate_counter("import", rate) for rate in Rate}
    aggregates: dict[str, Any] = {}
    for rate, name in counters.items():
        value = Cast(KeyTextTransform(name, "values"), FloatField())
        aggregates[f"hi{rate.value}"], aggregates[f"lo{rate.value}"] = Max(value), Min(value)
    rows = list(readings.order_by().annotate(bucket=trunc("time", tzinfo=zone))
                .values("bucket").annotate(**aggregates).order_by("bucket"))
    labels = [row["bucket"].astimezone(zone).isoformat() for row in rows]
    datasets = []
    for rate, name in counters.items():
        hi, lo = f"hi{rate.value}", f"lo{rate.value}"
        used: list[float | None] = []
        for index, row in enumerate(rows):
            start = rows[index - 1][hi] if index and rows[index - 1][hi] is not None else row[lo]
            if row[hi] is None or start is None:
                used.append(None)
            else:
                used.append(names.rounded(name, max(row[hi] - start, 0.0)))
        if any(used):
            datasets.append({"label": rate.label.capitalize(), "data": used})
    return {"labels": labels, "datasets": datasets, "unit": "kWh", "bucket": bucket}
