"""Writes on alarms: raise (or repeat), clear when the condition ends, acknowledge, clear by hand.

One open alarm per (meter, kind): a repeat bumps ``count`` and ``last_seen_at``. The partial
unique constraint makes that hold across concurrent ingest processes; a lost race to create
turns into a repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from meters import roles
from meters.alarms.bulk import NewAlarm, NewAlarms, Repeats
from meters.alarms.choices import AlarmState, Severity
from meters.alarms.models import Alarm, Notification, NotificationChannel
from meters.alarms.rules import Condition, Outcome
from meters.audit.services import audit_record
from meters.audit.snapshot import changes, snapshot
from meters.names import shorten

OPEN_STATES = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


def _open_alarms(meter_ids: Iterable[int]) -> dict[tuple[int, str], Alarm]:
    rows = Alarm.objects.filter(meter_id__in=list(meter_ids), state__in=OPEN_STATES)
    return {(a.meter_id, a.kind): a for a in rows}


def _repeat(alarm: Alarm, condition: Condition, at: datetime) -> None:
    Alarm.objects.filter(pk=alarm.pk).update(count=F("count") + 1, last_seen_at=at,
                                            message=shorten(condition.message, 300),
                                            details=condition.details)


def _create(meter_id: int, condition: Condition, at: datetime, count: int = 1) -> Alarm | None:
    try:
        with transaction.atomic():
            alarm = NewAlarm(meter_id, condition, count).row(at)
            alarm.save(force_insert=True)
    except IntegrityError:
        return None  # another process opened it a moment ago
    _announce([alarm])
    return alarm


def _announce(alarms: list[Alarm]) -> None:
    """Send each new alarm to the channels once the transaction commits."""
    if alarms and NotificationChannel.objects.filter(enabled=True).exists():
        from meters.alarms.tasks import notify_alarm

        for alarm in alarms:
            transaction.on_commit(lambda pk=alarm.pk: notify_alarm.delay(pk))


@transaction.atomic
def alarm_raise(*, meter_id: int, condition: Condition, at: datetime | None = None) -> Alarm:
    """Open an alarm, or count a repeat of the open one of the same kind."""
    at = at or timezone.now()
    for _ in range(2):
        open_alarm = _open_alarms([meter_id]).get((meter_id, condition.kind))
        if open_alarm is not None:
            _repeat(open_alarm, condition, at)
            open_alarm.refresh_from_db()
            return open_alarm
        created = _create(meter_id, condition, at)
        if created is not None:
            return created
    raise RuntimeError(f"could not raise {condition.kind} on meter {meter_id}")


@transaction.atomic
def alarm_resolve(*, meter_id: int, kind: str, at: datetime | None = None) -> int:
    """Clear the open alarm of ``kind`` because its condition ended; returns rows cleared."""
    return Alarm.objects.filter(meter_id=meter_id, kind=kind, state__in=OPEN_STATES).update(
        state=AlarmState.CLEARED, cleared_at=at or timezone.now(), cleared_by=None)


@transaction.atomic
def alarms_apply(*, outcomes: list[tuple[int, Outcome]], at: datetime | None = None) -> None:
    """Raise, repeat or clear alarms for many meters at once.

    One read of the open alarms; repeats are summed per alarm and new alarms per (meter, kind),
    both written together at the end (see meters/alarms/bulk.py), so an alarm storm costs a few
    statements per batch, not one per message. Clears are written in order as they come.
    """
    at = at or timezone.now()
    batch = _AlarmBatch(_open_alarms({meter_id for meter_id, _ in outcomes}), at)
    for meter_id, outcome in outcomes:
        for kind, condition in outcome.items():
            if condition is None:
                batch.clear(meter_id, kind)
            else:
                batch.raise_(meter_id, condition)
    batch.write()


class _AlarmBatch:
    """What one ``alarms_apply`` call has seen so far, and what it still has to write."""

    def __init__(self, open_alarms: dict[tuple[int, str], Alarm], at: datetime) -> None:
        self.open_alarms, self.at = open_alarms, at
        self.repeats, self.new = Repeats(), NewAlarms()

    def raise_(self, meter_id: int, condition: Condition) -> None:
        existing = self.open_alarms.get((meter_id, condition.kind))
        if existing is None:
            self.new.add(meter_id, condition)
        else:
            self.repeats.add(existing.pk, at=self.at, message=condition.message,
                             details=condition.details)

    def clear(self, meter_id: int, kind: str) -> None:
        pending = self.new.pop(meter_id, kind)
        if pending is not None:  # opened earlier in this batch: write it now, so it can clear
            self._open_one(pending)
        elif self.open_alarms.pop((meter_id, kind), None) is None:
            return
        # Repeats already tallied still land on the cleared row: they go by id.
        alarm_resolve(meter_id=meter_id, kind=kind, at=self.at)

    def write(self) -> None:
        created = self.new.insert(self.at)
        if created is None:  # another process opened one of them: go row by row
            for pending in self.new.pending():
                self._open_one(pending)
        else:
            _announce(created)
        self.repeats.write()

    def _open_one(self, new: NewAlarm) -> None:
        if _create(new.meter_id, new.condition, self.at, count=new.n) is not None:
            return
        alarm = alarm_raise(meter_id=new.meter_id, condition=new.condition, at=self.at)
        if new.n > 1:
            self.repeats.add(alarm.pk, at=self.at, message=new.condition.message,
                             details=new.condition.details, n=new.n - 1)


def _named(alarm: Alarm) -> str:
    return f"{alarm.get_kind_display()} on {alarm.meter.code}"


def _require_operator(user: Any) -> None:
    if not roles.has_role(user, roles.ADMIN, roles.OPERATOR):
        raise PermissionDenied("only operators and admins may acknowledge or clear alarms")


@transaction.atomic
def alarm_acknowledge(*, alarm: Alarm, user: Any, comment: str = "") -> Alarm:
    """Acknowledge an active alarm: who, when and why. It stays open until cleared."""
    _require_operator(user)
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.state != AlarmState.ACTIVE:
        raise ValidationError({"state": f"only an active alarm can be acknowledged; "
                                        f"this one is {alarm.state}"})
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_by = user
    alarm.acknowledged_at = timezone.now()
    alarm.ack_comment = comment.strip()[:2000]
    alarm.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "ack_comment"])
    audit_record(kind="alarm.acknowledge", obj=alarm, actor=user, object_repr=_named(alarm),
                 before={"state": AlarmState.ACTIVE}, after={"state": alarm.state},
                 detail=alarm.ack_comment)
    return alarm


@transaction.atomic
def alarm_clear(*, alarm: Alarm, user: Any) -> Alarm:
    """Clear an open alarm by hand; it reopens as a new alarm if the condition returns."""
    _require_operator(user)
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.state == AlarmState.CLEARED:
        raise ValidationError({"state": "this alarm is already cleared"})
    before = alarm.state
    alarm.state = AlarmState.CLEARED
    alarm.cleared_at = timezone.now()
    alarm.cleared_by = user
    alarm.save(update_fields=["state", "cleared_at", "cleared_by"])
    audit_record(kind="alarm.clear", obj=alarm, actor=user, object_repr=_named(alarm),
                 before={"state": before},
                 after={"state": alarm.state})
    return alarm


def _channel_picture(channel: NotificationChannel) -> dict[str, Any]:
    """A channel for the audit trail; a webhook's query string and credentials (tokens) are
    left out: the trail must not become a copy of the secrets."""
    picture = snapshot(channel, ["name", "kind", "target", "min_severity", "max_per_hour",
                                 "enabled"])
    parts = urlsplit(channel.target)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        hidden = "?…" if parts.query else ""
        picture["target"] = f"{parts.scheme}://{host}{':' if parts.port else ''}" \
                            f"{parts.port or ''}{parts.path}{hidden}"
    return picture


@transaction.atomic
def channel_save(*, channel: NotificationChannel | None,
                 save: Callable[[], NotificationChannel]) -> NotificationChannel:
    """Create (``channel`` None) or change a channel with ``save`` and record it."""
    before = _channel_picture(channel) if channel is not None else None
    saved = save()
    after = _channel_picture(saved)
    if before is None:
        audit_record(kind="channel.create", obj=saved, after=after)
    else:
        old, new = changes(before, after)
        if old or new:
            audit_record(kind="channel.update", obj=saved, before=old, after=new)
    return saved


@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    """Delete a channel (its delivery log goes with it) and record it."""
    audit_record(kind="channel.delete", obj=channel, before=_channel_picture(channel))
    channel.delete()


def _over_limit(channel: NotificationChannel, now: datetime) -> bool:
    # Test messages do not use up the hour's allowance.
    sent = channel.notifications.filter(sent_at__gte=now - timedelta(hours=1), suppressed=False,
                                        alarm__isnull=False)
    return sent.count() >= channel.max_per_hour


def notification_send(*, channel: NotificationChannel, alarm: Alarm | None = None,
                      force: bool = False) -> Notification:
    """Announce ``alarm`` (None: a test message) on ``channel``, within its hourly limit.

    Not atomic on purpose: the network call must not hold a transaction open, and the
    Notification row records the outcome either way. ``force`` skips the limit (test button).
    """
    from meters.alarms.notify import deliver

    now = timezone.now()
    if not force and _over_limit(channel, now):
        return Notification.objects.create(channel=channel, alarm=alarm, sent_at=now, ok=False,
                                           suppressed=True, detail="over the hourly limit")
    try:
        detail, ok = deliver(channel, alarm), True
    except (OSError, ValueError) as exc:
        detail, ok = f"failed: {exc}", False
    return Notification.objects.create(channel=channel, alarm=alarm, sent_at=now, ok=ok,
                                       detail=detail[:500])


def channels_for(alarm: Alarm) -> list[NotificationChannel]:
    """Enabled channels whose minimum severity this alarm reaches."""
    rank = Severity(alarm.severity).rank
    return [c for c in NotificationChannel.objects.filter(enabled=True)
            if Severity(c.min_severity).rank <= rank]
