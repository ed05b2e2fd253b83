"""Submitting, cancelling and waiting for meter jobs: the interface other apps use.

``job_submit`` validates the payload against the kind and the meter's profile before anything
exists (a ValidationError naming the field), writes the job (the outbox row) and queues its
dispatch for after the commit. The same idempotency key always answers with the same job.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kpm37.profile import load_profile
from meters.audit.choices import Result
from meters.audit.services import audit_record
from meters.choices import GatewayKind
from meters.jobs import lifecycle
from meters.jobs.choices import FINAL_STATES, JobState, Priority
from meters.jobs.kinds import PayloadInvalid, get_kind
from meters.jobs.models import MeterJob
from meters.models import Meter

MAX_REASON = 2000


@transaction.atomic
def job_submit(*, meter: Meter, kind: str, payload: dict[str, Any] | None = None,
               requested_by: Any = None, reason: str = "", priority: int | None = None,
               idempotency_key: str = "", not_before: datetime | None = None,
               expires_at: datetime | None = None) -> MeterJob:
    """Queue a job of ``kind`` on ``meter`` and return it (or the existing job of the same
    ``idempotency_key``). ValidationError names the field when the payload does not fit."""
    job_kind, clean = _validated(meter, kind, payload or {})
    if idempotency_key:
        existing = MeterJob.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, meter, kind, clean)
    now = timezone.now()
    job = MeterJob(
        meter=meter, kind=kind, payload=clean,
        priority=job_kind.priority if priority is None else _priority(priority),
        requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        requested_by_name=_who(requested_by), reason=_reason(reason),
        idempotency_key=idempotency_key or uuid.uuid4().hex, not_before=not_before or now,
        expires_at=expires_at or now + timedelta(seconds=job_kind.default_ttl_s))
    if job.expires_at <= job.not_before:
        raise ValidationError({"expires_at": "must be later than not_before"})
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:  # the same key submitted at the same moment by someone else
        return _same_request(MeterJob.objects.get(idempotency_key=idempotency_key), meter, kind,
                             clean)
    _audit_accepted(job)
    lifecycle.dispatch(job)
    return job


# Jobs that change a meter: who asked, from where and why is recorded (job.submit) when they
# are accepted; meters.relays records the outcome (job.<kind>) and the relay commands.
AUDITED_KINDS = ("write", "set_clock", "clear_energy", "upload_interval", "mqtt_reconfig")


def _audit_accepted(job: MeterJob) -> None:
    if job.kind not in AUDITED_KINDS:
        return
    audit_record(kind="job.submit", obj=job, meter=job.meter,
                 after={"kind": job.kind, **job.payload},
                 result=Result.ACCEPTED, detail=job.reason,
                 actor=job.requested_by if job.requested_by_id else None)


def _validated(meter: Meter, kind: str, payload: Any) -> tuple[Any, dict[str, Any]]:
    try:
        job_kind = get_kind(kind)
        if meter.transport not in job_kind.transports:
            raise PayloadInvalid("kind", f"{kind} is not available for {meter.transport} meters")
        _check_reachable(meter)
        if not isinstance(payload, dict):
            raise PayloadInvalid("payload", "must be an object")
        clean = job_kind.validate(profile=load_profile(meter.profile), payload=payload,
                                  transport=meter.transport)
    except PayloadInvalid as exc:
        raise ValidationError({exc.field: exc.reason}) from None
    return job_kind, clean


def _check_reachable(meter: Meter) -> None:
    """Refuse a job no owner would ever run, instead of letting it expire unexplained."""
    gateway = meter.gateway
    if gateway is None:
        return
    if not gateway.enabled:
        raise PayloadInvalid("meter", f"its gateway {gateway.name} is disabled")
    if gateway.kind == GatewayKind.DIAL_IN:
        raise PayloadInvalid("meter", f"it dials in through {gateway.name}; jobs on dial-in "
                             "meters are not supported yet")


def _same_request(job: MeterJob, meter: Meter, kind: str, payload: dict[str, Any]) -> MeterJob:
    # A retried request answers with its job; a different request reusing the key is refused,
    # never silently answered with a job that does something else.
    if job.meter_id != meter.pk or job.kind != kind:
        raise ValidationError({"idempotency_key": "already used for another job"})
    if job.payload != payload:
        raise ValidationError({"idempotency_key": "already used for a job with other values"})
    return job


def _priority(value: int) -> int:
    if value not in Priority.values:
        raise ValidationError({"priority": f"must be one of {Priority.values}"})
    return value


def _who(user: Any) -> str:
    if user is None:
        return "system"
    return str(getattr(user, "username", user))[:150]


def _reason(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"at most {MAX_REASON} characters"})
    return reason.replace("\x00", "")


@transaction.atomic
def job_cancel(*, job: MeterJob, by: Any = None, reason: str = "") -> MeterJob:
    """Cancel a job that has not started; a running job is already on the wire and finishes."""
    now = timezone.now()
    note = f"cancelled by {_who(by)}" + (f": {reason}" if reason else "")
    done = MeterJob.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED, finished_at=now, failure=note[:MAX_REASON])
    job.refresh_from_db()
    if not done:
        raise ValidationError({"state": f"a {job.state} job cannot be cancelled"})
    lifecycle.announce(job)
    return job


def job_wait(*, job_id: int, timeout_s: float, poll_s: float = 0.2,
             on_change: Callable[[MeterJob], None] | None = None) -> MeterJob:
    """Wait until the job is final or ``timeout_s`` passes; returns it as last read.
    ``on_change`` is called whenever its state or attempt count changes (progress)."""
    deadline = time.monotonic() + timeout_s
    seen: tuple[str, int, str] | None = None
    while True:
        job = MeterJob.objects.select_related("meter").get(pk=job_id)
        now_seen = (job.state, job.attempts, job.last_error)
        if on_change is not None and now_seen != seen:
            on_change(job)
        seen = now_seen
        if job.state in FINAL_STATES or time.monotonic() >= deadline:
            return job
        time.sleep(poll_s)
