"""fleet_page: the fleet page (``/``) at 100, 10,000 and 100,000 meters with 1,000 open alarms.

A throwaway database (see webdb.py) holds a fleet built in bulk: sites, tenants, labels,
Modbus gateways (200 meters each) and meters with legal codes, one in five over MQTT, each with
one or two labels and a LatestState. An admin persona requests ``/`` through django.test.Client
(the whole stack: middleware, session, role check, filterset, paginator, template).

1,000 open alarms (ten kinds on each of the first 100 meters) stay through every phase.
Measured in phases so machine-load drift shows instead of hiding in the ratio: at 100 meters,
grown to 10,000, grown to 100,000, and shrunk back to 100; the small fleet's figure is the
better of its two phases. At the largest size also a deep page (``?page=150``). Per phase: p50
and p95 of N requests and the queries per request (CaptureQueriesContext). The page is
paginated, so queries must be equal at every size and the time should grow far less than the
fleet. Recorded: p50 at 10,000 and at 100,000 meters, each as a ratio to p50 at 100 (target
<= 1.5 at 10,000). ``--quick`` (or BENCH_QUICK=1): 100 and 500 meters, fewer requests.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from record import quick, record
from webdb import throwaway_database

SMALL = 100
OPEN_ALARMS = 1_000
TARGET = 1.5
MODBUS_PER_GATEWAY = 200
SITES, TENANTS, LABELS = 20, 200, 12
MAX_SERIAL = 9999


def meter_code(index: int, mqtt: bool) -> str:
    """A legal, unique code for meter ``index``: past 9,999 serials the year steps back."""
    from kpm37.metercode import make_meter_code

    fold, serial = divmod(index, MAX_SERIAL)
    return make_meter_code(communication="2" if mqtt else "0", year=25 - fold,
                           month=1 + index % 12, serial=serial + 1)


def make_inventory(largest: int) -> dict[str, list[Any]]:
    """Sites, tenants, labels and enough gateways for ``largest`` meters."""
    from meters.models import Gateway, Label, Site, Tenant

    sites = Site.objects.bulk_create(
        Site(name=f"site-{n:02d}", timezone="Europe/Vienna") for n in range(SITES))
    tenants = Tenant.objects.bulk_create(
        Tenant(name=f"tenant-{n:03d}", site=sites[n % SITES]) for n in range(TENANTS))
    labels = Label.objects.bulk_create(
        Label(name=f"label-{n:02d}", colour=("blue", "green", "red")[n % 3])
        for n in range(LABELS))
    gateways = Gateway.objects.bulk_create(
        Gateway(name=f"gw-{n:03d}", kind="modbus-tcp", host=f"10.0.{n // 250}.{n % 250 + 1}",
                port=502, site=sites[n % SITES])
        for n in range(largest // MODBUS_PER_GATEWAY + 1))
    return {"sites": sites, "tenants": tenants, "labels": labels, "gateways": gateways}


def add_meters(inventory: dict[str, list[Any]], first: int, count: int) -> None:
    """Bulk-create meters ``first`` .. ``first + count - 1`` with labels and latest states."""
    from django.utils import timezone

    from meters.models import Meter
    from meters.telemetry.models import LatestState

    now = timezone.now()
    meters = [_meter(inventory, i, now) for i in range(first, first + count)]
    Meter.objects.bulk_create(meters, batch_size=2000)
    links = Meter.labels.through
    labels = inventory["labels"]
    links.objects.bulk_create(
        [links(meter_id=m.pk, label_id=labels[(m.pk + k) % LABELS].pk)
         for m in meters for k in range(1 + m.pk % 2)], batch_size=5000)
    stamp = now.isoformat()
    LatestState.objects.bulk_create(
        [LatestState(meter_id=m.pk, updated_at=now,
                     values={"voltage_a": {"value": 230.1, "time": stamp},
                             "import_active_energy": {"value": 1234.5, "time": stamp}})
         for m in meters], batch_size=2000)


def _meter(inventory: dict[str, list[Any]], i: int, now: Any) -> Any:
    from meters.models import Meter

    mqtt = i % 5 == 4
    status = ("online", "online", "online", "offline", "never-seen")[i % 5]
    meter = Meter(code=meter_code(i, mqtt), transport="mqtt" if mqtt else "modbus",
                  gateway=None if mqtt else inventory["gateways"][i // MODBUS_PER_GATEWAY],
                  address=None if mqtt else i % MODBUS_PER_GATEWAY + 1,
                  site=inventory["sites"][i % SITES], tenant=inventory["tenants"][i % TENANTS],
                  status=status, last_seen_at=None if status == "never-seen" else now)
    meter.fill_decoded_code()  # bulk_create skips save(), which fills these
    return meter


def admin_client() -> Any:
    """A django.test.Client logged in as a member of the admin role."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from meters import roles

    user = User.objects.create_user("bench-admin", is_staff=True)
    user.groups.set(Group.objects.filter(name=roles.ADMIN))
    client = Client()
    client.force_login(user)
    return client


def open_alarms(count: int) -> None:
    """``count`` open alarms, ten kinds on each of the first ``count // 10`` meters."""
    from django.utils import timezone

    from meters.alarms.choices import AlarmKind
    from meters.alarms.models import Alarm
    from meters.models import Meter

    kinds = list(AlarmKind)[:10]
    now = timezone.now()
    meters = Meter.objects.order_by("pk").values_list("pk", flat=True)[:count // len(kinds)]
    Alarm.objects.bulk_create(
        [Alarm(meter_id=m, kind=k, source=k.source, severity=k.severity, message=k.label,
               first_seen_at=now, last_seen_at=now) for m in meters for k in kinds])


Phase = tuple[float, float, int]  # p50 s, p95 s, queries per request


def measure(client: Any, url: str, requests: int) -> Phase:
    """(p50, p95, queries per request); fails loudly on a non-200 answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _get(client, url)  # warm-up: templates compiled, connection open
    times, queries = [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            _get(client, url)
            times.append(time.perf_counter() - started)
        queries.add(len(captured))
    if len(queries) != 1:
        raise SystemExit(f"queries per request of {url} varied between requests: {queries}")
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18], queries.pop()


def _get(client: Any, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, expected 200")


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a live site."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def shrink_to(count: int) -> None:
    """Back to the first ``count`` meters, in SQL: Django's cascade would walk 100,000 rows in
    Python. Only the tables this benchmark fills are touched (alarms sit on the first 100)."""
    from django.db import connection

    from meters.models import Meter
    from meters.telemetry.models import LatestState

    keep = list(Meter.objects.order_by("pk").values_list("pk", flat=True)[:count])
    tables = [Meter.labels.through._meta.db_table, LatestState._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE NOT (meter_id = ANY(%s))", [keep])  # noqa: S608
        cursor.execute(f"DELETE FROM {Meter._meta.db_table} WHERE NOT (id = ANY(%s))", [keep])  # noqa: S608
    analyze()


def main() -> int:
    sizes, requests = ((SMALL, 500), 3) if quick() else ((SMALL, 10_000, 100_000), 30)
    phases: list[tuple[str, Phase]] = []
    with throwaway_database("fleetpage") as where:
        print(f"database: {where}")
        print(f"GET / as an admin, {requests} requests per phase, {OPEN_ALARMS:,} open alarms")
        inventory = make_inventory(sizes[-1])
        client = admin_client()
        have = 0
        for size in sizes:
            add_meters(inventory, have, size - have)
            have = size
            if size == SMALL:
                open_alarms(OPEN_ALARMS)
            analyze()
            phases.append((f"{size:,} meters", measure(client, "/", requests)))
        phases.append((f"{sizes[-1]:,} meters ?page=150", measure(client, "/?page=150",
                                                                   requests)))
        shrink_to(SMALL)
        phases.append((f"{SMALL} meters (again)", measure(client, "/", requests)))
    report(sizes, phases)
    return 0


def report(sizes: tuple[int, ...], phases: list[tuple[str, Phase]]) -> None:
    for label, (p50, p95, queries) in phases:
        print(f"  {label:26} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
              f"{queries:3d} queries/request")
    by_label = dict(phases)
    small = min(by_label[f"{SMALL} meters"], by_label[f"{SMALL} meters (again)"])
    equal = len({q for _, (_, _, q) in phases}) == 1
    for size in sizes[1:]:
        p50, p95, queries = by_label[f"{size:,} meters"]
        ratio = p50 / small[0]
        gated = size == 10_000 or (size == sizes[-1] and len(sizes) == 2)
        record(f"fleet_page_{size // 1000}k", value=p50 * 1000, unit="ms p50", ratio=ratio,
               baseline=f"p50 at {SMALL} meters, same run",
               target=f"ratio <= {TARGET}" if gated else "",
               met=(ratio <= TARGET and equal) if gated else None,
               p95_ms=p95 * 1000, p95_ratio=p95 / small[1], queries=queries,
               queries_at_100=small[2], queries_equal=equal, open_alarms=OPEN_ALARMS,
               meters=size)


if __name__ == "__main__":
    sys.exit(main())
