"""The fleet page (``/``) at 100 and at 10,000 meters: time and SQL queries per request.

A throwaway database (see webdb.py) holds a fleet built in bulk: sites, tenants, labels,
Modbus gateways (200 meters each) and meters with legal codes, one in five over MQTT, each with
one or two labels and a LatestState. An admin persona requests ``/`` through django.test.Client
(the whole stack: middleware, session, role check, filterset, paginator, template).

Measured in three phases so machine-load drift shows instead of hiding in the ratio: at 100
meters, grown to 10,000, and shrunk back to 100; the small fleet's figure is the better of its
two phases. At 10,000 also a deep page (``?page=150``). Per phase: best time of N requests and
the queries per request (CaptureQueriesContext). The page is paginated, so queries must be
equal at both sizes and the time should grow far less than the fleet's x100.
``--quick`` (or BENCH_QUICK=1) uses fewer requests and a 1,000-meter large fleet.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from webdb import throwaway_database

SMALL = 100
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


def measure(client: Any, url: str, requests: int) -> tuple[float, int]:
    """(best seconds per request, queries per request); fails loudly on a non-200 answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _get(client, url)  # warm-up: templates compiled, connection open
    best, queries = float("inf"), set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            _get(client, url)
            best = min(best, time.perf_counter() - started)
        queries.add(len(captured))
    if len(queries) != 1:
        raise SystemExit(f"queries per request of {url} varied between requests: {queries}")
    return best, queries.pop()


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
    from meters.models import Meter

    Meter.objects.filter(pk__in=Meter.objects.order_by("pk").values("pk")[count:]).delete()
    analyze()


def main() -> int:
    quick = "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"
    large, requests = (1_000, 3) if quick else (10_000, 15)
    with throwaway_database("fleetpage") as where:
        print(f"database: {where}")
        print(f"GET / as an admin, best of {requests} requests per phase")
        inventory = make_inventory(large)
        client = admin_client()
        add_meters(inventory, 0, SMALL)
        analyze()
        first = measure(client, "/", requests)
        add_meters(inventory, SMALL, large - SMALL)
        analyze()
        big = measure(client, "/", requests)
        deep = measure(client, "/?page=150", requests)
        shrink_to(SMALL)
        again = measure(client, "/", requests)
    report(large, first, again, big, deep)
    return 0


def report(large: int, first: tuple[float, int], again: tuple[float, int],
           big: tuple[float, int], deep: tuple[float, int]) -> None:
    small = min(first, again)
    for label, (seconds, queries) in ((f"{SMALL} meters (first)", first),
                                      (f"{SMALL} meters (again)", again),
                                      (f"{large:,} meters", big),
                                      (f"{large:,} meters ?page=150", deep)):
        print(f"  {label:26} {seconds * 1000:8.1f} ms/request  {queries:3d} queries/request")
    time_ratio = big[0] / small[0]
    print(f"  {large:,}/{SMALL}: time x{time_ratio:.2f} (fleet x{large // SMALL}), "
          f"queries x{big[1] / small[1]:.2f}; deep page/first page time x{deep[0] / big[0]:.2f}")
    same = "equal" if big[1] == small[1] == again[1] else "NOT EQUAL"
    print(f"summary: fleet page x{time_ratio:.2f} slower at {large:,} meters than at {SMALL}; "
          f"queries per request {same} ({small[1]} vs {big[1]})")


if __name__ == "__main__":
    sys.exit(main())
