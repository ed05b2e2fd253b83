"""One attempt at a job, on the meter: the part that runs on an event loop, without a database.

The bus owner (``owner.py``) and the MQTT command task (``mqtt_runner.py``) load a job into a
plain :class:`JobSpec`, then call :func:`attempt_modbus` or :func:`attempt_mqtt` on their loop;
what comes back is an :class:`~meters.jobs.outcome.Outcome` with the evidence, stored by
``lifecycle.job_settle`` on the owner's thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from kpm37.device import MeterDevice
from kpm37.mqtt.transport import MqttTransport
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from meters.jobs.evidence import RecordingBus, RecordingCommander
from meters.jobs.kinds import JobContext, JobKind, MeterFacts, get_kind
from meters.jobs.models import MeterJob
from meters.jobs.outcome import VERIFIED, Outcome, outcome_of_error

log = logging.getLogger(__name__)
MQTT_UNIT = 1  # an MQTT meter is alone on its link; MqttTransport maps this unit to its code


@dataclass(frozen=True)
class JobSpec:
    """A job as the bus loop sees it: plain data, loaded on the owner's thread."""

    id: int
    kind: str
    payload: dict[str, Any]
    priority: int
    check_before_resend: bool
    meter: MeterFacts
    gateway: str = ""
    gateway_kind: str = ""


def spec_of(job: MeterJob) -> JobSpec:
    meter = job.meter
    facts = MeterFacts(code=meter.code, transport=meter.transport, unit=int(meter.address or 0),
                       profile=meter.profile,
                       timezone=meter.site.timezone if meter.site else "UTC")
    gateway = meter.gateway
    return JobSpec(id=job.pk, kind=job.kind, payload=dict(job.payload), priority=job.priority,
                   check_before_resend=job.check_before_resend, meter=facts,
                   gateway=gateway.name if gateway else "",
                   gateway_kind=gateway.kind if gateway else "")


async def _attempt(kind: JobKind, ctx: JobContext, check_first: bool) -> Outcome:
    result = None
    if check_first and not kind.repeat_safe:
        result = await kind.already_done(ctx)
    if result is None:
        result = await kind.run(ctx)
    return Outcome(VERIFIED, result=result)


async def attempt_modbus(spec: JobSpec, scheduler: BusScheduler) -> Outcome:
    """Run ``spec`` on a gateway's scheduler at the job's rank (relay jobs on the urgent lane)."""
    profile = load_profile(spec.meter.profile)
    recorder = RecordingBus(scheduler, profile, rank=spec.priority)
    ctx = JobContext(job_id=spec.id, payload=spec.payload, meter=spec.meter, profile=profile,
                     device=MeterDevice(recorder, profile, spec.meter.unit))
    outcome = await _guarded(spec, ctx, lambda: recorder.failed_names)
    outcome.evidence = {"transport": spec.gateway_kind, "gateway": spec.gateway,
                        "unit": spec.meter.unit, "exchanges": recorder.exchanges}
    outcome.sent = bool(recorder.exchanges)
    return outcome


async def attempt_mqtt(spec: JobSpec) -> Outcome:
    """Run ``spec`` over V1.9 commands on a broker connection of its own."""
    profile = load_profile(spec.meter.profile)
    commander = RecordingCommander(settings.MQTT_URL, profile=profile,
                                   timeout_s=float(settings.JOBS_MQTT_REPLY_TIMEOUT_S))
    transport = MqttTransport(commander, {MQTT_UNIT: spec.meter.code})
    ctx = JobContext(job_id=spec.id, payload=spec.payload, meter=spec.meter, profile=profile,
                     device=MeterDevice(transport, profile, MQTT_UNIT), commander=commander)
    try:
        await commander.start()
    except Exception as exc:  # the broker is down: like a silent meter, try again later
        outcome = outcome_of_error(exc, [])
        outcome.sent = False
    else:
        try:
            outcome = await _guarded(spec, ctx, lambda: [])
        finally:
            await commander.close()
    outcome.evidence = {"transport": "mqtt", "gateway": "", "broker": commander.link.address.host,
                        "exchanges": commander.exchanges}
    outcome.sent = outcome.sent and bool(commander.exchanges)
    return outcome


async def _guarded(spec: JobSpec, ctx: JobContext, failed_names: Any) -> Outcome:
    try:
        return await _attempt(get_kind(spec.kind), ctx, spec.check_before_resend)
    except Exception as exc:  # every failure becomes the job's reason; the bus carries on
        outcome = outcome_of_error(exc, failed_names())
        if outcome.failure.startswith("internal error"):
            log.exception("job %s (%s) failed inside the platform", spec.id, spec.kind)
        return outcome
