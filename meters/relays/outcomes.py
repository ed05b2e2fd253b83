"""The outcome of each relay command, appended to the audit trail once its job is final.

The job settles on the bus owner (or expires in the outbox sweep); this recorder, run every few
seconds by beat, appends one ``relay.result`` record per finished relay job: confirmed with the
relay state read back, failed with the meter's reason, expired, or cancelled. It is idempotent:
a job already recorded is skipped, so a duplicate or late run adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from meters.audit.choices import Result
from meters.audit.context import Source, audit_source
from meters.audit.models import AuditRecord
from meters.audit.services import Entry, audit_record_many
from meters.jobs.models import MeterJob

LOOK_BACK = timedelta(days=1)
RESULTS = {"verified": Result.OK, "failed": Result.FAILED, "expired": Result.EXPIRED,
           "cancelled": Result.CANCELLED}


def _detail(job: MeterJob) -> str:
    if job.state == "verified":
        values = job.result.get("values", {}) if isinstance(job.result, dict) else {}
        relay = f"do{job.payload.get('output')}"
        state = values.get(relay)
        read = "" if state is None else f": read back {'closed' if state else 'open'}"
        return f"confirmed{read}" + (f" ({job.result.get('note')})"
                                     if job.result.get("note") else "")
    return f"{job.state}: {job.failure or job.last_error or 'no reason given'}"


@transaction.atomic
def relay_outcomes_record(*, now: datetime | None = None) -> int:
    """Record every relay job finished in the last day and not yet recorded; returns how many.
    """
    since = (now or timezone.now()) - LOOK_BACK
    done = set(AuditRecord.objects.filter(kind="relay.result", at__gte=since - LOOK_BACK)
               .values_list("object_id", flat=True))
    jobs = (MeterJob.objects.filter(kind="relay", state__in=list(RESULTS),
                                    finished_at__gte=since)
            .select_related("meter", "requested_by").order_by("finished_at", "id"))
    entries = []
    for job in jobs:
        if str(job.pk) in done:
            continue
        entries.append(Entry(
            kind="relay.result", meter=job.meter, result=RESULTS[job.state],
            detail=_detail(job), after={"state": job.state, "job": job.pk,
                                        "requested_by": job.requested_by_name,
                                        "output": job.payload.get("output"),
                                        "action": job.payload.get("action")},
            extra={"object_type": "jobs.MeterJob", "object_id": str(job.pk),
                   "object_repr": f"{job.meter.code}: {job.payload.get('action')} output "
                                  f"{job.payload.get('output')}"}))
    with audit_source(Source(via="system", process="relay outcome recorder")):
        return audit_record_many(entries=entries)
