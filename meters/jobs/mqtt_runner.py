"""Jobs on MQTT meters: one task per job sends its V1.9 commands and waits for the replies.

The attempt runs on an event loop in a helper thread while this thread renews the job's lease,
so a worker killed mid-job leaves a lease that lapses within ``JOBS_LEASE_S`` and the sweep
puts the job back in the queue (marked to check the meter before sending again). A meter that
does not answer sends the job back to the queue with a growing wait, until it expires; a meter
the platform knows to be offline is not sent anything: its job waits (no attempt) until the
meter is back or the job expires.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

from meters.choices import MeterStatus
from meters.jobs import lifecycle
from meters.jobs.models import MeterJob
from meters.jobs.runner import attempt_mqtt, spec_of
from meters.models import Meter

RENEW_EVERY_S = 2.0
OFFLINE_WAIT_S = 30.0  # how often a job for an offline meter looks whether it is back


def _offline_note(meter: Meter) -> str:
    seen = f"{meter.last_seen_at:%Y-%m-%d %H:%M:%S} UTC" if meter.last_seen_at else "never"
    return f"meter offline (last seen {seen}): waiting for it to come back"


def mqtt_job_run(*, job_id: int) -> str:
    """Claim and run one MQTT job; returns its new state ("" if it was not ours to run)."""
    meter = Meter.objects.filter(jobs__pk=job_id).first()
    if meter is not None and meter.status == MeterStatus.OFFLINE:
        lifecycle.job_defer(job_id=job_id, seconds=OFFLINE_WAIT_S, note=_offline_note(meter))
        return ""
    owner = lifecycle.new_owner_token()
    lease_s = lifecycle.lease_seconds()
    if not lifecycle.job_start(job_id=job_id, owner=owner, lease_s=lease_s):
        return ""
    job = MeterJob.objects.select_related("meter", "meter__site", "meter__gateway").get(
        pk=job_id)
    spec = spec_of(job)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mqtt-job") as pool:
        future = pool.submit(asyncio.run, attempt_mqtt(spec))
        while True:
            try:
                outcome = future.result(timeout=RENEW_EVERY_S)
                break
            except concurrent.futures.TimeoutError:
                lifecycle.jobs_renew(job_ids=[job_id], owner=owner, lease_s=lease_s)
                time.sleep(0)
    return lifecycle.job_settle(job_id=job_id, owner=owner, outcome=outcome)
