"""The outcome of each job that changes a meter, appended to the audit trail once it is final.

The job settles on the bus owner (or expires in the outbox sweep); this recorder, run every few
seconds by beat, appends one record per finished relay job (``relay.result``: confirmed with the
relay state read back, failed with the meter's reason, expired, or cancelled) and per finished
configuration write, clock setting, energy clear or V1.9 command (``job.<kind>``, with what was
read back), in the name of whoever asked. It is idempotent: a job already recorded is skipped.
Reads change nothing and are not recorded.
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
# Job kind -> audit kind of its outcome.
RECORDED = {"relay": "relay.result", "write": "job.write", "set_clock": "job.set_clock",
            "clear_energy": "job.clear_energy", "upload_interval": "job.upload_interval",
            "mqtt_reconfig": "job.mqtt_reconfig"}
RESULTS = {"verified": Result.OK, "failed": Result.FAILED, "expired": Result.EXPIRED,
           "cancelled": Result.CANCELLED}


def _detail(job: MeterJob) -> str:
    if job.state == "verified" and job.kind != "relay":
        return "verified by read-back"
    if job.state == "verified":
        values = job.result.get("values", {}) if isinstance(job.result, dict) else {}
        relay = f"do{job.payload.get('output')}"
        state = values.get(relay)
        read = "" if state is None else f": read back {'closed' if state else 'open'}"
        return f"confirmed{read}" + (f" ({job.result.get('note')})"
                                     if job.result.get("note") else "")
    return f"{job.state}: {job.failure or job.last_error or 'no reason given'}"


def _entry(job: MeterJob) -> Entry:
    after = {"state": job.state, "job": job.pk, "requested_by": job.requested_by_name,
             **job.payload}
    if job.kind != "relay" and isinstance(job.result, dict):
        after["read_back"] = job.result.get("values", {})
    describe = (f"{job.payload.get('action')} output {job.payload.get('output')}"
                if job.kind == "relay" else job.kind)
    return Entry(kind=RECORDED[job.kind], meter=job.meter, result=RESULTS[job.state],
                 detail=_detail(job) + (f"; asked: {job.reason}" if job.reason else ""),
                 after=after, actor=job.requested_by,
                 extra={"object_type": "jobs.MeterJob", "object_id": str(job.pk),
                        "object_repr": f"{job.meter.code}: {describe}"})


@transaction.atomic
def relay_outcomes_record(*, now: datetime | None = None) -> int:
    """Record every such job finished in the last day and not yet recorded; returns how many.
    """
    since = (now or timezone.now()) - LOOK_BACK
    done = set(AuditRecord.objects.filter(kind__in=list(RECORDED.values()),
                                          at__gte=since - LOOK_BACK)
               .values_list("object_id", flat=True))
    jobs = (MeterJob.objects.filter(kind__in=list(RECORDED), state__in=list(RESULTS),
                                    finished_at__gte=since)
            .select_related("meter", "requested_by").order_by("finished_at", "id"))
    entries = [_entry(job) for job in jobs if str(job.pk) not in done]
    with audit_source(Source(via="system", process="job outcome recorder")):
        return audit_record_many(entries=entries)
