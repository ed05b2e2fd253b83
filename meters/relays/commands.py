"""Relay commands to one meter, as ``relay`` meter jobs (``meters.jobs``), and the dispatch of
an approved group command at a bounded rate.

The rules come first, before anything is queued: operators and admins only, a reason, an output
and an action; an output whose control mode is known (read back) to be alarm rather than remote
is refused here, before anything is sent. Every attempt is recorded, refused ones too (in a
transaction of their own, as the refusal raises). The job then carries the command out exactly
once: the relay kind reads the modes again on the meter, switches, and reads the relay back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kpm37.profile import load_profile
from meters.audit.choices import Result
from meters.audit.services import audit_record
from meters.jobs.choices import Priority
from meters.jobs.models import MeterJob
from meters.jobs.selectors import reported_values
from meters.jobs.services import job_submit
from meters.models import Meter
from meters.relays import conf
from meters.relays.models import RelayGroupCommand
from meters.relays.rules import check_command, clean_reason, require_commander

ALARM_MODE = 1  # doN_control_mode: 0 remote, 1 alarm (kpm37 profile, from the manual)


def known_control_mode(meter: Meter, output: int) -> Any:
    """The output's control mode as last read back from the meter (None: not known yet)."""
    reported = reported_values(meter_id=meter.pk).get(f"do{output}_control_mode")
    return reported.get("value") if isinstance(reported, dict) else None


def _refuse_alarm_mode(meter: Meter, output: int) -> None:
    if known_control_mode(meter, output) == ALARM_MODE:
        raise ValidationError({"output": f"output {output} of {meter.code} is in alarm mode "
                                         "(read back from the meter), not remote: it cannot be "
                                         "switched remotely; nothing was sent"})


def _record_refusal(meter: Meter, user: Any, payload: dict[str, Any], exc: Exception) -> None:
    reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    with transaction.atomic():
        audit_record(kind="relay.command", meter=meter, actor=user, result=Result.REFUSED,
                     object_type="relay", object_repr=f"{meter.code} output "
                     f"{payload.get('output')} {payload.get('action')}"[:200],
                     after=payload, detail=reason)


def relay_command(*, meter: Meter, user: Any, output: Any, action: Any, reason: Any,
                  not_before: datetime | None = None, idempotency_key: str = "") -> MeterJob:
    """Queue one relay command and return its job; refusals raise (and are recorded)."""
    asked = {"output": output, "action": action, "reason": str(reason or "")[:500]}
    try:
        require_commander(user)
        output, action = check_command(output, action)
        reason = clean_reason(reason)
        _refuse_alarm_mode(meter, output)
    except (PermissionDenied, ValidationError) as exc:
        _record_refusal(meter, user, asked, exc)
        raise
    return _submit(meter, user, output, action, reason, not_before, idempotency_key)


@transaction.atomic
def _submit(meter: Meter, user: Any, output: int, action: str, reason: str,
            not_before: datetime | None, key: str) -> MeterJob:
    if key and MeterJob.objects.filter(idempotency_key=key).exists():
        # The same command again (a double click, a client's retry): the one job, no new record.
        return job_submit(meter=meter, kind="relay", idempotency_key=key,
                          payload={"output": output, "action": action})
    start = not_before or timezone.now()
    job = job_submit(meter=meter, kind="relay", payload={"output": output, "action": action},
                     requested_by=user, reason=reason, idempotency_key=key,
                     not_before=not_before,
                     expires_at=start + timedelta(seconds=conf.get("RELAY_COMMAND_TTL_S")))
    audit_record(kind="relay.command", meter=meter, actor=user, result=Result.ACCEPTED,
                 object_type="jobs.MeterJob", object_id=str(job.pk),
                 object_repr=f"{meter.code}: {action} output {output}",
                 after={"output": output, "action": action, "job": job.pk,
                        "expires_at": job.expires_at}, detail=reason)
    return job


def relay_state_read(*, meter: Meter, user: Any) -> MeterJob:
    """Queue a read of the outputs and their modes (operators and admins), so the panel and the
    alarm-mode check know them; relay priority, as an operator waits for it."""
    require_commander(user)
    profile = load_profile(meter.profile)
    names = [name for output in (1, 2) for name in (
        f"do{output}", f"do{output}_control_mode", f"do{output}_output_mode")
        if profile.has(name)]
    return job_submit(meter=meter, kind="read", payload={"names": names}, requested_by=user,
                      reason="read relay state", priority=Priority.RELAY)


def group_key(group: RelayGroupCommand, meter_id: int) -> str:
    return f"relay-group-{group.pk}-{meter_id}"


def group_jobs(group: RelayGroupCommand) -> list[MeterJob]:
    return list(MeterJob.objects.filter(idempotency_key__startswith=f"relay-group-{group.pk}-")
                .select_related("meter").order_by("not_before", "id"))


@transaction.atomic
def relay_group_dispatch(*, group: RelayGroupCommand, user: Any) -> int:
    """Queue one relay job per meter, ``rate_per_minute`` of them a minute (staggered
    ``not_before``); idempotent: a meter's job has a key of its own. Returns jobs queued."""
    spacing = timedelta(seconds=60 / max(1, group.rate_per_minute))
    start, queued = timezone.now(), 0
    for n, meter in enumerate(group.meters.order_by("code")):
        try:
            relay_command(meter=meter, user=user, output=group.output, action=group.action,
                          reason=f"{group.reason} (group command {group.pk})",
                          not_before=start + n * spacing,
                          idempotency_key=group_key(group, meter.pk))
            queued += 1
        except ValidationError:
            continue  # refused for this meter (alarm mode): recorded; the others go on
    group.dispatched_at = timezone.now()
    group.save(update_fields=["dispatched_at"])
    audit_record(kind="relay.dispatch", obj=group, actor=user,
                 after={"jobs": queued, "refused": group.meter_count - queued,
                        "rate_per_minute": group.rate_per_minute})
    return queued
