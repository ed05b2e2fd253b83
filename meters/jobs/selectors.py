"""Job reads: what a user may see, what a bus owner may start, what is pending for a meter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from meters.choices import TransportKind
from meters.jobs.choices import PENDING_STATES, JobState, Priority
from meters.jobs.models import MeterJob, ReportedState
from meters.models import Gateway
from meters.selectors import meters_visible_to


def job_list(*, user: Any) -> QuerySet[MeterJob]:
    """Jobs on meters ``user`` may see, newest first, joined for tables and the API."""
    return (MeterJob.objects.filter(meter__in=meters_visible_to(user))
            .select_related("meter", "meter__gateway", "requested_by")
            .order_by("-created_at", "-id"))


def jobs_of_meter(*, meter_id: int, limit: int = 20) -> list[MeterJob]:
    """A meter's newest jobs, for its page."""
    return list(MeterJob.objects.filter(meter_id=meter_id).select_related("requested_by")
                .order_by("-created_at", "-id")[:limit])


def meter_has_pending_jobs(*, meter_id: int) -> bool:
    return MeterJob.objects.filter(meter_id=meter_id, state__in=PENDING_STATES).exists()


def runnable(jobs: QuerySet[MeterJob], now: datetime) -> QuerySet[MeterJob]:
    """Those of ``jobs`` that may start now: queued, due, not expired, and their meter free.
    Jobs on one meter run one at a time, except that a relay job does not wait for a running
    job of a lower class (its frames interleave with, say, a billing read's at the next frame);
    it waits only for another relay job on the same meter."""
    running = MeterJob.objects.filter(state=JobState.RUNNING)
    busy = running.values("meter_id")
    relay_busy = running.filter(priority=Priority.RELAY).values("meter_id")
    free = ((Q(priority=Priority.RELAY) & ~Q(meter_id__in=relay_busy))
            | (~Q(priority=Priority.RELAY) & ~Q(meter_id__in=busy)))
    return jobs.filter(state=JobState.QUEUED, not_before__lte=now, expires_at__gt=now).filter(free)


def _runnable(now: datetime) -> QuerySet[MeterJob]:
    return runnable(MeterJob.objects.all(), now)


def jobs_runnable_on(*, gateway: Gateway, now: datetime | None = None) -> QuerySet[MeterJob]:
    """Queued jobs a bus owner of ``gateway`` may start now, most urgent first (one running job
    per meter at a time, so jobs on a meter keep their order)."""
    now = now or timezone.now()
    return (_runnable(now).filter(meter__gateway=gateway, meter__transport=TransportKind.MODBUS)
            .select_related("meter", "meter__site").order_by("priority", "created_at", "id"))


def mqtt_jobs_runnable(*, now: datetime | None = None) -> QuerySet[MeterJob]:
    """Queued MQTT jobs that may start now."""
    return _runnable(now or timezone.now()).filter(meter__transport=TransportKind.MQTT)


def gateways_with_runnable_jobs(*, now: datetime | None = None) -> list[int]:
    """Ids of gateways that have a Modbus job waiting to start."""
    jobs = _runnable(now or timezone.now()).filter(meter__transport=TransportKind.MODBUS,
                                                   meter__gateway__isnull=False)
    return sorted(set(jobs.values_list("meter__gateway_id", flat=True)))


def reported_values(*, meter_id: int) -> dict[str, Any]:
    """The meter's reported state: name -> {"value", "time", "job"} (empty if none)."""
    row = ReportedState.objects.filter(meter_id=meter_id).first()
    return dict(row.values) if row else {}
