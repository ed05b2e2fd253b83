"""Group relay commands: request (count typed back above a size), approve by a second
operator, reject; approved or small groups go out as relay jobs at a bounded rate."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from meters.audit.choices import Result
from meters.audit.services import audit_record
from meters.models import Meter
from meters.relays import conf
from meters.relays.choices import GroupState
from meters.relays.models import RelayGroupCommand
from meters.relays.rules import (
    check_command,
    check_typed_count,
    clean_reason,
    require_commander,
)
from meters.selectors import meters_visible_to

CODES_SHOWN = 20


def group_meters(*, user: Any, label: str = "", codes: list[str] | None = None
                 ) -> tuple[QuerySet[Meter], str]:
    """The meters a group command targets (by label, or by codes) and how they were chosen."""
    visible = meters_visible_to(user)
    codes = [c.strip() for c in (codes or []) if c and c.strip()]
    if bool(label) == bool(codes):
        raise ValidationError({"label": "choose the meters by a label or by a list of codes "
                                        "(one of the two)"})
    if label:
        return visible.filter(labels__name=label).order_by("code"), f"label {label}"
    found = visible.filter(code__in=codes).order_by("code")
    unknown = sorted(set(codes) - set(found.values_list("code", flat=True)))
    if unknown:
        raise ValidationError({"codes": f"unknown meters: {', '.join(unknown[:CODES_SHOWN])}"
                                        + (" …" if len(unknown) > CODES_SHOWN else "")})
    return found, f"{len(set(codes))} meters by code"


@transaction.atomic
def relay_group_request(*, user: Any, output: Any, action: Any, reason: Any, label: str = "",
                        codes: list[str] | None = None,
                        confirm_count: Any = None) -> RelayGroupCommand:
    """Ask for a group command; small groups go out at once, large ones wait for approval."""
    require_commander(user)
    output, action = check_command(output, action)
    reason = clean_reason(reason)
    meters, selection = group_meters(user=user, label=label, codes=codes)
    ids = list(meters.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"label" if label else "codes": "no meters match"})
    if len(ids) > conf.get("RELAY_GROUP_MAX_METERS"):
        raise ValidationError({"label" if label else "codes": f"{len(ids)} meters; at most "
                               f"{conf.get('RELAY_GROUP_MAX_METERS')} in one command"})
    above = conf.get("RELAY_GROUP_APPROVAL_ABOVE")
    check_typed_count(count=len(ids), typed=confirm_count, needed_above=above)
    group = RelayGroupCommand.objects.create(
        output=output, action=action, reason=reason, selection=selection[:200],
        meter_count=len(ids), needs_approval=len(ids) > above,
        state=GroupState.AWAITING_APPROVAL if len(ids) > above else GroupState.DISPATCHED,
        rate_per_minute=conf.get(
            "RELAY_GROUP_RATE_PER_MINUTE"), requested_by=user,
        requested_by_name=user.get_username(), requested_at=timezone.now())
    group.meters.set(ids)
    audit_record(kind="relay.group", obj=group, actor=user, result=Result.ACCEPTED,
                 after={"output": output, "action": action, "meters": len(ids),
                        "selection": selection, "needs_approval": group.needs_approval},
                 detail=reason)
    if not group.needs_approval:
        _dispatch(group, user)
    return group


def _locked_awaiting(group: RelayGroupCommand) -> RelayGroupCommand:
    locked = RelayGroupCommand.objects.select_for_update().get(pk=group.pk)
    if locked.state != GroupState.AWAITING_APPROVAL:
        raise ValidationError({"state": f"this group command is already "
                                        f"{locked.get_state_display().lower()}"})
    return locked


@transaction.atomic
def relay_group_approve(*, group: RelayGroupCommand, user: Any,
                        note: str = "") -> RelayGroupCommand:
    """A second operator (not the one who asked) approves; the commands go out."""
    require_commander(user)
    group = _locked_awaiting(group)
    if group.requested_by_id == user.pk:
        raise PermissionDenied("a second operator must approve: you asked for this command")
    _decide(group, user, GroupState.DISPATCHED, note)
    audit_record(kind="relay.approve", obj=group, actor=user, detail=note,
                 after={"state": "approved", "requested_by": group.requested_by_name})
    _dispatch(group, user)
    return group


@transaction.atomic
def relay_group_reject(*, group: RelayGroupCommand, user: Any,
                       note: str = "") -> RelayGroupCommand:
    """Refuse (another operator) or withdraw (the one who asked) a waiting group command."""
    require_commander(user)
    group = _locked_awaiting(group)
    own = group.requested_by_id == user.pk
    _decide(group, user, GroupState.CANCELLED if own else GroupState.REJECTED, note)
    audit_record(kind="relay.reject", obj=group, actor=user, detail=note,
                 after={"state": group.state})
    return group


def _decide(group: RelayGroupCommand, user: Any, state: str, note: str) -> None:
    group.state, group.decided_by, group.decided_at = state, user, timezone.now()
    group.decided_by_name, group.decision_note = user.get_username(), note.strip()[:2000]
    group.save(update_fields=["state", "decided_by", "decided_at", "decided_by_name",
                              "decision_note"])


def _dispatch(group: RelayGroupCommand, user: Any) -> None:
    from meters.relays.commands import relay_group_dispatch

    relay_group_dispatch(group=group, user=user)
