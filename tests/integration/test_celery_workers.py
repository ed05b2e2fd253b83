"""Two real Celery workers on Redis poll one simulated gateway: never both on the bus at once.

The workers are separate processes (``celery worker -P solo``) on the test database; the
gateway is our simulator on a free port in this process, so its request log is the evidence.
Tasks go out in pairs, so in every round both workers race for the same gateway's claim.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from kpm37.profile import load_profile
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter
from meters.telemetry.models import PollRun, PollState, Reading
from tests.factories import GatewayFactory, MeterFactory
from tests.services import redis_url, require_postgres
from tests.telemetry.background import LoopThread, wait_until

pytestmark = pytest.mark.services

TASK = "meters.telemetry.tasks.poll_gateway"
ADDRESSES = (1, 2, 3)
MIN_ROUNDS, MAX_ROUNDS = 5, 10


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "tests.integration.celery_app", "worker",
               "-P", "solo", "-c", "1", "-n", name, "--without-heartbeat", "--without-gossip",
               "--without-mingle", "--loglevel", "INFO"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix for this test; every key under it is deleted afterwards."""
    import redis

    client = redis.Redis.from_url(redis_url())
    tag = f"test:celery-poll:{uuid.uuid4().hex[:12]}:"
    yield tag
    for key in client.scan_iter(match=f"{tag}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def sim(transactional_db: None) -> Iterator[Any]:
    """Three meters behind a simulated 19200-baud gateway, and their inventory rows."""
    loop = LoopThread()
    profile = load_profile("kpm37")
    meters = [SimMeter(profile, code=f"30710251000{a:02d}", address=a, seed=a) for a in ADDRESSES]
    host, port, gateway = loop.run(start_gateway(meters, baud=19200))
    row = GatewayFactory(name=f"celery-{uuid.uuid4().hex[:8]}", host=host, port=port,
                         timeout_ms=500, frame_gap_ms=20)
    for address in ADDRESSES:
        MeterFactory(gateway=row, address=address, poll_interval_s=10)
    yield gateway, row
    loop.run(gateway.stop())
    loop.close()


def _start_workers(prefix: str, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    url = redis_url()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test",
           "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": url,
           "CELERY_RESULT_BACKEND": url, "REDIS_URL": url, "TEST_CELERY_KEYPREFIX": prefix,
           "POLL_LEASE_PREFIX": f"{prefix}lease:", "FLEET_VAR_DIR": str(tmp_path)}
    names = [f"poll{i}-{prefix.split(':')[2]}@localhost" for i in (1, 2)]
    workers = [_worker(n, env, tmp_path / f"{n}.log") for n in names]
    logs = [tmp_path / f"{n}.log" for n in names]
    ready = wait_until(lambda: all(" ready." in p.read_text(errors="replace") for p in logs), 30)
    if not ready:
        _stop(workers)
        pytest.fail("workers did not start:\n" + "\n".join(p.read_text()[-2000:] for p in logs))
    return workers


def _sender(prefix: str) -> Celery:
    app = Celery("poll-test", broker=redis_url(), backend=redis_url())
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    app.conf.result_backend_transport_options = {"global_keyprefix": prefix}
    return app


def _rounds(app: Celery, gateway_id: int) -> list[dict[str, Any]]:
    """Pairs of tasks for the one gateway, the meters made due before each pair; stops once
    both workers have polled (at least MIN_ROUNDS, at most MAX_ROUNDS pairs)."""
    outcomes: list[dict[str, Any]] = []
    for n in range(MAX_ROUNDS):
        PollState.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
        pair = [app.send_task(TASK, args=[gateway_id]) for _ in range(2)]
        outcomes += [result.get(timeout=30) for result in pair]
        workers = {o["worker"] for o in outcomes if o.get("ok")}
        if n + 1 >= MIN_ROUNDS and len(workers) == 2:
            break
    return outcomes


def test_two_workers_share_a_gateway_but_never_the_bus(sim: Any, prefix: str,
                                                      tmp_path: Path) -> None:
    require_postgres()
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need the test database on PostgreSQL")
    gateway, row = sim
    workers = _start_workers(prefix, tmp_path)
    try:
        outcomes = _rounds(_sender(prefix), row.pk)
    finally:
        _stop(workers)

    # The bus never carried two requests at once, and the frame gap was honoured.
    log = sorted(gateway.log, key=lambda r: r.started)
    assert all(r.gap is None or r.gap >= 0.015 for r in log), [r.gap for r in log]
    spans = {}
    for r in log:
        first, _ = spans.get(r.connection, (r.received, r.ended))
        spans[r.connection] = (first, r.ended)
    ordered = sorted(spans.values())
    assert all(a[1] <= b[0] for a, b in pairwise(ordered))

    winners = [o for o in outcomes if o["claimed"]]
    refused = [o for o in outcomes if not o["claimed"]]
    assert all("already claimed" in o["note"] or "leased" in o["note"] for o in refused)
    assert len(outcomes) >= 2 * MIN_ROUNDS and refused, outcomes
    # Both workers did some of the polling, recorded in the PollRun rows.
    runs = list(PollRun.objects.filter(gateway=row).order_by("started_at"))
    assert {r.worker for r in runs if r.meters_ok} == {o.get("worker") for o in outcomes}
    assert len({r.worker for r in runs if r.meters_ok}) == 2
    # Every run held a newer Redis fence than the one before it.
    fences = [r.fence for r in runs]
    assert None not in fences and fences == sorted(set(fences))
    # Readings landed: each winning run stored its three meters.
    stored = sum(o["stored"] for o in winners)
    assert stored >= 3 * len({o["worker"] for o in winners})
    assert Reading.objects.filter(meter__gateway=row, source="modbus").count() == stored
