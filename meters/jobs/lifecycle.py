"""A job's life after submission: claimed by compare-and-set, settled once, swept when lost.

Every transition is one conditional UPDATE that names the state (and owner) it expects, so two
owners, a late worker and the sweep can never both move one job. The sweep (beat, every few
seconds) is what makes the outbox safe: it expires jobs past ``expires_at``, puts running jobs
whose owner stopped renewing back in the queue (marked to check the meter before resending),
and dispatches again every runnable job, whose task message may have been lost (Redis flush).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from meters.jobs import selectors, tasks
from meters.jobs.choices import JobState
from meters.jobs.evidence import evidence_sha256
from meters.jobs.kinds import get_kind, job_listeners
from meters.jobs.models import MeterJob, ReportedState
from meters.jobs.outcome import RETRY, VERIFIED, Outcome

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # interrupted (owner lost) attempts before a job gives up
RETRY_BACKOFF_S = (2, 5, 10, 30, 60)


def new_owner_token() -> str:
    return secrets.token_hex(16)


def job_start(*, job_id: int, owner: str, lease_s: float) -> bool:
    """Claim a queued job for ``owner`` (queued -> running); False if someone else did, or it
    is no longer runnable (cancelled, expired, not yet due, its meter busy with another)."""
    now = timezone.now()
    mine = selectors.runnable(MeterJob.objects.filter(pk=job_id), now)
    return bool(mine.update(state=JobState.RUNNING, owner=owner, started_at=now,
                            lease_until=now + timedelta(seconds=lease_s),
                            attempts=F("attempts") + 1))


def job_defer(*, job_id: int, seconds: float, note: str) -> bool:
    """Leave a queued job waiting ``seconds`` more without an attempt (its meter is offline);
    it expires visibly at ``expires_at`` with ``note`` if the meter never comes back."""
    until = timezone.now() + timedelta(seconds=seconds)
    return bool(MeterJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        not_before=until, last_error=note))


def jobs_renew(*, job_ids: list[int], owner: str, lease_s: float) -> int:
    """Extend the leases of ``owner``'s running jobs; returns how many are still its own."""
    return MeterJob.objects.filter(pk__in=job_ids, owner=owner, state=JobState.RUNNING).update(
        lease_until=timezone.now() + timedelta(seconds=lease_s))


@transaction.atomic
def job_settle(*, job_id: int, owner: str, outcome: Outcome) -> str:
    """Record an attempt's outcome if ``owner`` still holds the job; returns the new state
    ("" if the job was no longer ours: the sweep took it back meanwhile)."""
    job = MeterJob.objects.select_for_update().filter(
        pk=job_id, owner=owner, state=JobState.RUNNING).select_related("meter").first()
    if job is None:
        return ""
    now = timezone.now()
    job.evidence = outcome.evidence
    job.evidence_sha256 = evidence_sha256(outcome.evidence) if outcome.evidence else ""
    job.transport = outcome.evidence.get("transport", "")
    job.gateway_name = outcome.evidence.get("gateway", "")
    job.meter_clock = str(outcome.result.get("values", {}).get("clock") or "")[:19]
    job.owner, job.lease_until = "", None
    if outcome.state == RETRY:
        _requeue(job, outcome, now)
    else:
        job.state = JobState.VERIFIED if outcome.state == VERIFIED else JobState.FAILED
        job.result, job.finished_at = outcome.result, now
        job.failure, job.failed_value = outcome.failure, outcome.failed_value[:64]
        if job.state == JobState.VERIFIED and get_kind(job.kind).reports_values:
            _report(job, now)
    job.save()
    if job.state == JobState.QUEUED:
        dispatch(job, countdown=max(0.0, (job.not_before - now).total_seconds()))
    else:
        announce(job)
    return str(job.state)


def announce(job: MeterJob) -> None:
    """Tell the job's kind and the listeners that ``job`` is final, once this commits."""
    job_id = job.pk
    transaction.on_commit(lambda: _notify(job_id))


def _notify(job_id: int) -> None:
    job = MeterJob.objects.select_related("meter").get(pk=job_id)
    for hook in (get_kind(job.kind).finished, *job_listeners()):
        try:
            hook(job)
        except Exception:  # one app's bug must not stop the others hearing of the job
            log.exception("job %s: %r failed on the finished job", job_id, hook)


def _requeue(job: MeterJob, outcome: Outcome, now: datetime) -> None:
    wait = RETRY_BACKOFF_S[min(job.attempts, len(RETRY_BACKOFF_S)) - 1]
    job.last_error = outcome.failure
    job.failed_value = outcome.failed_value[:64]
    job.check_before_resend = job.check_before_resend or outcome.sent
    if now + timedelta(seconds=wait) >= job.expires_at:
        _expire(job, now)
        return
    job.state, job.not_before = JobState.QUEUED, now + timedelta(seconds=wait)


def _expire(job: MeterJob, now: datetime) -> None:
    job.state, job.finished_at = JobState.EXPIRED, now
    why = f": last attempt {job.last_error}" if job.last_error else ""
    job.failure = f"expired at {job.expires_at:%Y-%m-%d %H:%M:%S} UTC without an answer{why}"


def _report(job: MeterJob, now: datetime) -> None:
    """The values read back become the meter's reported state, each with its time."""
    values = job.result.get("values") or {}
    if not values:
        return
    state, _ = ReportedState.objects.select_for_update().get_or_create(
        meter=job.meter, defaults={"updated_at": now})
    stamp = now.isoformat()
    state.values = {**state.values, **{name: {"value": value, "time": stamp, "job": job.pk}
                                       for name, value in values.items()}}
    state.updated_at = now
    state.save()


def dispatch(job: MeterJob, countdown: float = 0.0) -> None:
    """Queue the task that runs ``job`` once the current transaction commits: its gateway's
    bus owner for a Modbus meter, a command task for an MQTT meter."""
    if job.meter.gateway_id is not None:
        gateway_id = job.meter.gateway_id
        transaction.on_commit(lambda: tasks.run_gateway_jobs.apply_async(
            (gateway_id,), countdown=countdown))
    else:
        transaction.on_commit(lambda: tasks.run_mqtt_job.apply_async(
            (job.pk,), countdown=countdown))


@dataclass
class SweepReport:
    expired: int = 0
    reclaimed: int = 0
    gave_up: int = 0
    dispatched: int = 0


@transaction.atomic
def jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Expire, reclaim and re-dispatch (see the module docstring)."""
    now = now or timezone.now()
    report = SweepReport()
    for job in MeterJob.objects.select_for_update(skip_locked=True).filter(
            state=JobState.QUEUED, expires_at__lte=now):
        _expire(job, now)
        job.save()
        announce(job)
        report.expired += 1
    lapsed = MeterJob.objects.select_for_update(skip_locked=True).filter(
        state=JobState.RUNNING, lease_until__lt=now)
    for job in lapsed:
        _reclaim(job, now, report)
    report.dispatched = _dispatch_runnable(now)
    return report


def _reclaim(job: MeterJob, now: datetime, report: SweepReport) -> None:
    job.owner, job.lease_until, job.check_before_resend = "", None, True
    job.last_error = f"attempt {job.attempts} interrupted: its owner stopped renewing its lease"
    if job.attempts >= MAX_ATTEMPTS:
        job.state, job.finished_at = JobState.FAILED, now
        job.failure = f"gave up after {job.attempts} interrupted attempts"
        report.gave_up += 1
    elif job.expires_at <= now:
        _expire(job, now)
        report.expired += 1
    else:
        job.state, job.not_before = JobState.QUEUED, now
        report.reclaimed += 1
    job.save()
    if job.state != JobState.QUEUED:
        announce(job)


def _dispatch_runnable(now: datetime) -> int:
    gateways = selectors.gateways_with_runnable_jobs(now=now)
    mqtt_jobs = list(selectors.mqtt_jobs_runnable(now=now).values_list("pk", flat=True))
    for gateway_id in gateways:
        transaction.on_commit(lambda g=gateway_id: tasks.run_gateway_jobs.delay(g))
    for job_id in mqtt_jobs:
        transaction.on_commit(lambda j=job_id: tasks.run_mqtt_job.delay(j))
    return len(gateways) + len(mqtt_jobs)


def lease_seconds() -> float:
    return float(getattr(settings, "JOBS_LEASE_S", 15))
