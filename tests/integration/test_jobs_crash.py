"""Meter jobs survive a worker killed with SIGKILL mid-job and a Redis flush: each is carried
out exactly once. Real Celery workers on Redis, the test database on PostgreSQL, and our
simulator on a real socket (its request log is the evidence of what reached the meters)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection

from kpm37.modbus import pdu
from kpm37.profile import load_profile
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter
from meters.jobs.choices import FINAL_STATES, JobState
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from tests.factories import GatewayFactory, MeterFactory
from tests.integration.test_celery_workers import _database_url, _sender, _stop, _worker
from tests.integration.test_celery_workers import prefix as prefix
from tests.services import redis_url, require_postgres
from tests.telemetry.background import LoopThread, wait_until

pytestmark = pytest.mark.services
ADDRESSES = (1, 2, 3)
SWEEP = "meters.jobs.tasks.sweep_jobs"


@pytest.fixture
def slow_sim(transactional_db: None) -> Iterator[tuple[Any, Any, dict[int, SimMeter]]]:
    """Three meters behind a 9600-baud gateway with the manual's 100 ms gap."""
    require_postgres()
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need the test database on PostgreSQL")
    loop = LoopThread()
    profile = load_profile("kpm37")
    sims = {a: SimMeter(profile, code=f"30710251000{a:02d}", address=a, seed=a)
            for a in ADDRESSES}
    for sim in sims.values():
        sim.set_parameter("do1_output_mode", 0)  # level: a close stays closed
    host, port, gateway = loop.run(start_gateway(list(sims.values()), baud=9600))
    row = GatewayFactory(name=f"crash-{uuid.uuid4().hex[:8]}", host=host, port=port,
                         timeout_ms=2000, frame_gap_ms=100)
    for address in ADDRESSES:
        MeterFactory(gateway=row, address=address, poll_interval_s=3600)
    yield gateway, row, sims
    loop.run(gateway.stop())
    loop.close()


def _start_worker(prefix: str, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    url = redis_url()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test",
           "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": url,
           "CELERY_RESULT_BACKEND": url, "REDIS_URL": url, "TEST_CELERY_KEYPREFIX": prefix,
           "POLL_LEASE_PREFIX": f"{prefix}lease:", "FLEET_VAR_DIR": str(tmp_path),
           "JOBS_LEASE_S": "3"}
    full = f"{name}-{prefix.split(':')[2]}@localhost"
    log = tmp_path / f"{full}.log"
    worker = _worker(full, env, log)
    if not wait_until(lambda: " ready." in log.read_text(errors="replace"), 30):
        _stop([worker])
        pytest.fail("worker did not start:\n" + log.read_text()[-2000:])
    return worker


def _sweep_until_done(app: Celery, jobs: list[MeterJob], timeout: float = 90) -> None:
    """Send the beat's sweep every second until every job is final."""
    ids = [j.pk for j in jobs]

    def done() -> bool:
        app.send_task(SWEEP)
        return not MeterJob.objects.filter(pk__in=ids).exclude(state__in=FINAL_STATES).exists()

    assert wait_until(done, timeout), list(MeterJob.objects.filter(pk__in=ids).values(
        "pk", "kind", "state", "attempts", "last_error"))


def _coil_writes(gateway: Any, unit: int) -> int:
    return sum(1 for r in gateway.log if r.unit == unit and r.function == pdu.WRITE_SINGLE_COIL)


def test_a_worker_killed_mid_job_leaves_every_job_done_exactly_once(
        slow_sim: Any, prefix: str, tmp_path: Path) -> None:
    gateway, row, sims = slow_sim
    meters = {m.address: m for m in row.meters.all()}
    billing = [job_submit(meter=meters[a], kind="read_billing") for a in (1, 2)]
    relay = job_submit(meter=meters[3], kind="relay", payload={"output": 1, "action": "close"})
    write = job_submit(meter=meters[2], kind="write", payload={"values": {"billing_day": 9}})
    app = _sender(prefix)
    worker = _start_worker(prefix, tmp_path, "victim")
    try:
        app.send_task("meters.jobs.tasks.run_gateway_jobs", args=[row.pk])
        # Kill it the moment the relay's coil write has reached the meter: before the owner
        # could read the relay back and record the job.
        assert wait_until(lambda: _coil_writes(gateway, 3) >= 1, 30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_in = MeterJob.objects.get(pk=relay.pk).state
        worker = _start_worker(prefix, tmp_path, "heir")
        _sweep_until_done(app, [*billing, relay, write])
    finally:
        _stop([worker])

    assert killed_in == JobState.RUNNING  # the kill really interrupted the relay job
    relay.refresh_from_db()
    assert relay.state == JobState.VERIFIED, relay.failure
    assert relay.attempts == 2 and "not sent again" in relay.result["note"]
    assert _coil_writes(gateway, 3) == 1 and sims[3].relay("do1")  # switched exactly once
    for job in [*billing, write]:
        job.refresh_from_db()
        assert job.state == JobState.VERIFIED, (job.kind, job.failure)
    assert sims[2].parameter("billing_day") == 9


def test_a_redis_flush_with_jobs_queued_loses_no_job(slow_sim: Any, prefix: str,
                                                     tmp_path: Path) -> None:
    import redis

    gateway, row, sims = slow_sim
    meters = {m.address: m for m in row.meters.all()}
    app = _sender(prefix)
    jobs = [job_submit(meter=meters[1], kind="relay", payload={"output": 1, "action": "close"}),
            job_submit(meter=meters[2], kind="write", payload={"values": {"billing_day": 4}}),
            job_submit(meter=meters[3], kind="read", payload={"names": ["ct_ratio"]})]
    app.send_task("meters.jobs.tasks.run_gateway_jobs", args=[row.pk])  # no worker yet
    client = redis.Redis.from_url(redis_url())
    flushed = [client.delete(key) for key in client.scan_iter(match=f"{prefix}*")]
    client.close()
    assert flushed  # the queued task message was there, and is gone
    worker = _start_worker(prefix, tmp_path, "after-flush")
    try:
        time.sleep(2)
        assert all(j.state == JobState.QUEUED for j in MeterJob.objects.all())
        _sweep_until_done(app, jobs)
    finally:
        _stop([worker])

    for job in jobs:
        job.refresh_from_db()
        assert job.state == JobState.VERIFIED and job.attempts == 1, (job.kind, job.failure)
    assert _coil_writes(gateway, 1) == 1 and sims[1].relay("do1")
    assert sims[2].parameter("billing_day") == 4
