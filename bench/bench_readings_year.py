"""readings_year: the fleet page, a meter's history chart and ingest on a year of readings.

At 10,000-20,000 meters the readings table grows by some 30 million rows a month; it is kept
by month (meters/telemetry/partitions.py): a partition per calendar month, retention drops
whole months. Measured side by side in one throwaway database (webdb.py, migrated, so
partitioned), first with two months of history (this one and the last, each meter at
15-minute cadence), then after the ten months before them are generated; ratio = year / two
months:

  fleet page   p50 of ``GET /`` as an admin (reads meters and latest states, never history);
  chart        p50 of ``GET /telemetry/meters/<id>/history/`` of a meter at 15-minute cadence:
               its newest 500 points, and 5 days of two to three weeks ago;
  ingest       messages/s through ``PacketBatcher`` (the storage path of ``ingest_mqtt``,
               dedupe against the table included) into the current month's partition.

The year is generated in SQL (generate_series, one realistic RT_DATA-sized JSON object per row)
month by month, newest first, each month into a bare table that is then attached as the
month's partition (indexes built once, as a bulk load does). A year at fleet scale (360
million rows, ~400 GB) cannot be built on this machine in minutes: the run builds BUILD_S
seconds' worth (METERS meters, 15-minute cadence, as many months as fit), prints the rows
per second it achieved and says how far that is from the year at fleet scale. The reasoning
for carrying the figures over: with monthly partitions, what a page touches is bounded by one
month (the current partition) and the meter's own rows; only the B-tree depth of one month's
index grows with the fleet (one level per ~x300 rows). ``--quick``: 10 meters, 3 months.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from record import quick, record
from webdb import throwaway_database

METERS = 10 if quick() else 200
MONTHS = 3 if quick() else 12
BUILD_S = 20 if quick() else 90
CADENCE = "15 minutes"
FLEET_ROWS_A_MONTH = 30_000_000
REQUESTS = 5 if quick() else 25


def captured_row() -> tuple[str, str]:
    """(values, extra) as JSON text: what ingest stores for the captured RT_DATA message."""
    from mqttfleet import CAPTURES

    from kpm37.mqtt.payload import parse_message, split_known
    from kpm37.profile import load_profile

    profile = load_profile("kpm37")
    message = parse_message((CAPTURES / "kpm33b_MQTT_RT_DATA.json").read_bytes(), "MQTT_RT_DATA")
    values, extra = split_known(message.topic, {**message.unknown, **message.quantities},
                                profile.mqtt, profile.mqtt_scale)
    return json.dumps(values), json.dumps(extra)


def p50(client: Any, url: str) -> float:
    client.get(url)  # warm
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
    return statistics.median(times)


def ingest_rate(codes: list[str], messages: int) -> float:
    """Messages/s of the storage path for ``messages`` fresh messages of ``codes``."""
    import bench_ingest

    from meters.telemetry.batching import PacketBatcher

    packets = bench_ingest.traffic(codes, messages)
    started = time.perf_counter()
    batcher = PacketBatcher()
    for token, (topic, payload) in enumerate(packets):
        batcher.feed(topic, payload, token=token)
        if len(batcher) >= bench_ingest.BATCH:
            batcher.commit()
    batcher.commit(flush=True)
    return len(packets) / (time.perf_counter() - started)


def _month_start(months_back: int) -> date:
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def build_months(meter_ids: list[int], backs: range, budget_s: float
                 ) -> tuple[int, int, float]:
    """Generate the months ``backs`` (0 = this month, up to an hour ago) at 15-minute cadence,
    each into a bare table attached as its partition afterwards (indexes and the foreign-key
    check built once, as a bulk load does), until ``budget_s`` is spent; (rows, months, s)."""
    from django.db import connection

    from meters.telemetry import partitions

    table, (values, extra) = partitions.TABLE, captured_row()
    started, rows, months = time.monotonic(), 0, 0
    latest = datetime.now(UTC) - timedelta(hours=1)
    for back in backs:
        if time.monotonic() - started > budget_s:
            break
        month = _month_start(back)
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        end = datetime.combine(partitions.next_month(month), datetime.min.time(), UTC)
        name = partitions.partition_name(month)
        with connection.cursor() as cursor:
            if name in {p.name for p in partitions.partitions()}:
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
            cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
            base = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {name} (id, meter_id, source, time, received_at, values, "  # noqa: S608
                "extra) SELECT %s + row_number() OVER (), m, 'MQTT_RT_DATA', t, t, %s::jsonb, "
                "%s::jsonb FROM unnest(%s::bigint[]) m, generate_series(%s::timestamptz, "
                f"%s::timestamptz - interval '1 second', interval '{CADENCE}') t",
                [base, values, extra, meter_ids, start, min(end, latest)])
            rows += cursor.rowcount
            cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM "
                           "(%s) TO (%s)", [start, end])
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608
        months += 1
        print(f"  {month:%Y-%m}: {rows:,} rows, {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return rows, months, time.monotonic() - started


def measure(client: Any, meter_id: int, codes: list[str]) -> dict[str, float]:
    """p50 of the fleet page and of two charts; the storage path's rate."""
    until = datetime.now(UTC) - timedelta(days=15)
    old = f"?since={(until - timedelta(days=5)):%Y-%m-%dT%H:%M}&until={until:%Y-%m-%dT%H:%M}"
    return {"fleet": p50(client, "/"),
            "chart": p50(client, f"/telemetry/meters/{meter_id}/history/"),
            "chart_old": p50(client, f"/telemetry/meters/{meter_id}/history/{old}"),
            "ingest": ingest_rate(codes, 1_000 if quick() else 5_000)}


def main() -> int:
    from bench_fleet_page import admin_client
    from mqttfleet import make_meters

    with throwaway_database("readingsyear") as where:
        print(f"database: {where}")
        from django.db import connection

        from meters.models import Meter

        codes = make_meters(METERS)
        ids = list(Meter.objects.order_by("pk").values_list("pk", flat=True))
        client = admin_client()
        rows, _, first_s = build_months(ids, range(2), BUILD_S)
        month = measure(client, ids[0], codes)
        more, months, more_s = build_months(ids, range(2, MONTHS), BUILD_S - first_s)
        build_s = first_s + more_s
        year = measure(client, ids[0], codes)
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM "
                           "pg_inherits WHERE inhparent = 'telemetry_reading'::regclass")
            size = int(cursor.fetchone()[0])
    report(month, year, rows + more, months + 2, build_s, size)
    return 0


def report(day: dict[str, float], year: dict[str, float], rows: int, months: int,
           build_s: float, size: int) -> None:
    year_rows = FLEET_ROWS_A_MONTH * 12
    print(f"  built {rows:,} rows ({size / 1e9:.1f} GB) over {months} months in {build_s:.0f} s "
          f"= {rows / build_s:,.0f} rows/s; a year at fleet scale is {year_rows:,} rows "
          f"(x{year_rows / max(rows, 1):,.0f}), ~{year_rows / max(rows, 1) * size / 1e9:,.0f} GB")
    for key, label in (("fleet", "fleet page"), ("chart", "chart, newest 500 points"),
                       ("chart_old", "chart, 5 days 3 weeks ago")):
        print(f"  {label:25} month {day[key] * 1000:7.1f} ms   year {year[key] * 1000:7.1f} ms"
              f"   x{year[key] / day[key]:.2f}")
    print(f"  ingest (storage path)     month {day['ingest']:7,.0f} msg/s year "
          f"{year['ingest']:7,.0f} msg/s x{year['ingest'] / day['ingest']:.2f}")
    scale = dict(rows=rows, months=months, meters=METERS, table_gb=size / 1e9,
                 fleet_year_rows=year_rows, build_rows_per_s=rows / build_s)
    record("readings_year_fleet_page", value=year["fleet"] * 1000, unit="ms p50",
           ratio=year["fleet"] / day["fleet"], baseline="same page with two months of history",
           **scale)
    record("readings_year_chart", value=year["chart"] * 1000, unit="ms p50",
           ratio=year["chart"] / day["chart"], baseline="same chart with two months of history",
           old_range_ms=year["chart_old"] * 1000,
           old_range_ratio=year["chart_old"] / day["chart_old"], **scale)
    record("readings_year_ingest", value=year["ingest"], unit="msg/s (storage path)",
           ratio=year["ingest"] / day["ingest"], baseline="same path with two months of history",
           **scale)


if __name__ == "__main__":
    sys.exit(main())
