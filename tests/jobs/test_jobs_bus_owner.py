"""The bus owner: a relay job jumps a long billing read at the next frame; a job whose owner
died is reclaimed by the sweep and not repeated when its effect is already there."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kpm37.modbus import pdu
from meters.jobs.choices import JobState
from meters.jobs.lifecycle import jobs_sweep
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from tests.jobs.conftest import SimBus, make_sim_bus
from tests.telemetry.background import LoopThread, wait_until


@pytest.fixture
def slow_bus(transactional_db: None, loop: LoopThread) -> Iterator[SimBus]:
    """9600 baud and the manual's 100 ms gap: a 125-register read holds the bus ~0.4 s."""
    made = make_sim_bus(loop, baud=9600, frame_gap_ms=100, timeout_ms=2000)
    yield made
    loop.run(made.sim.stop())


def _owner_in_background(bus: SimBus) -> threading.Thread:
    def run() -> None:
        try:
            bus.run_jobs()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_relay_job_queued_during_a_billing_read_starts_within_one_frame(
        slow_bus: SimBus) -> None:
    bus = slow_bus
    billing = [job_submit(meter=m, kind="read_billing") for m in bus.meters.values()]
    owner = _owner_in_background(bus)
    assert wait_until(lambda: len(bus.sim.log) >= 3, 20)  # the billing read is under way
    queued_at = time.monotonic()
    relay = job_submit(meter=bus.meters[7], kind="relay", payload={"output": 2, "action": "open"})
    owner.join(timeout=60)

    relay.refresh_from_db()
    assert relay.state == JobState.VERIFIED, relay.failure
    log = sorted(bus.sim.log, key=lambda r: r.started)
    mine = [r for r in log if r.unit == 7 and r.started > queued_at
            and r.function in (pdu.WRITE_SINGLE_COIL, pdu.READ_HOLDING_REGISTERS)
            and (r.function == pdu.WRITE_SINGLE_COIL or r.address == 0x1033)]
    first = mine[0]
    # Frames that went on the wire after the relay job was queued and before its own first
    # frame: the one in flight, and at most one more taken while the owner noticed the job.
    jumped = [r for r in log if queued_at < r.started < first.started]
    assert len(jumped) <= 2, [(r.unit, r.address, r.started - queued_at) for r in jumped]
    # ... while the billing reads had frames left: the relay did not simply wait its turn.
    assert any(r.started > first.ended for r in log if r.function == pdu.READ_HOLDING_REGISTERS
               and 0x009C <= r.address < 0x01D4)
    for job in billing:
        job.refresh_from_db()
        assert job.state == JobState.VERIFIED, job.failure
        assert len(job.result["months"]) == 13
        # each month's consumption by quantity (KPM33B V3.4 §4.1), this month's so far
        assert job.result["months"]["m00"]["total_active_energy"] >= 0


def test_a_job_whose_owner_died_is_reclaimed_and_its_effect_not_repeated(bus: SimBus) -> None:
    bus.sims[3].set_parameter("do1_output_mode", 0)
    job = job_submit(meter=bus.meters[3], kind="relay", payload={"output": 1, "action": "close"})
    # A worker claimed it, closed the relay, and was killed before it could record anything.
    MeterJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, owner="dead-worker", attempts=1,
        started_at=timezone.now() - timedelta(minutes=1),
        lease_until=timezone.now() - timedelta(seconds=1))
    bus.sims[3].write_coil(1, True)
    frames_before = len(bus.sim.log)

    report = jobs_sweep()
    job.refresh_from_db()
    assert report.reclaimed == 1 and job.state == JobState.QUEUED and job.check_before_resend
    bus.run_jobs()
    job.refresh_from_db()

    assert job.state == JobState.VERIFIED and job.attempts == 2
    assert "not sent again" in job.result["note"]
    sent = [r for r in bus.sim.log[frames_before:] if r.function == pdu.WRITE_SINGLE_COIL]
    assert sent == []


def test_an_interrupted_pulse_is_never_sent_twice(bus: SimBus) -> None:
    job = job_submit(meter=bus.meters[3], kind="relay", payload={"output": 1, "action": "pulse"})
    MeterJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, owner="dead-worker", attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1))
    jobs_sweep()
    frames_before = len(bus.sim.log)
    bus.run_jobs()
    job.refresh_from_db()

    assert job.state == JobState.FAILED and "not sent again" in job.failure
    assert not [r for r in bus.sim.log[frames_before:] if r.function == pdu.WRITE_SINGLE_COIL]
