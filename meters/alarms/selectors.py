"""Alarm reads, scoped to the meters a user may see and joined for display."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from meters.alarms.choices import AlarmState, Severity
from meters.alarms.models import Alarm, Notification, NotificationChannel
from meters.roles import ADMIN, has_role
from meters.selectors import meters_visible_to


def alarm_list(*, user: Any) -> QuerySet[Alarm]:
    """Alarms on meters ``user`` may see, with meter and people joined."""
    return (Alarm.objects.filter(meter__in=meters_visible_to(user))
            .select_related("meter", "meter__site", "acknowledged_by", "cleared_by"))


def open_alarm_counts(alarms: QuerySet[Alarm]) -> dict[str, int]:
    """Open alarms per severity (every severity present), in one query."""
    rows = (alarms.exclude(state=AlarmState.CLEARED).order_by()
            .values_list("severity").annotate(n=Count("id")))
    counts = {s.value: 0 for s in Severity}
    counts.update(dict(rows))
    return counts


def channel_list(*, user: Any) -> QuerySet[NotificationChannel]:
    """Every notification channel for an admin; nothing for anyone else (they hold secrets)."""
    if has_role(user, ADMIN):
        return NotificationChannel.objects.all()
    return NotificationChannel.objects.none()


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """The delivery log: all of it for an admin, else only announcements of alarms on meters
    ``user`` may see (never test messages, which belong to no alarm)."""
    rows = Notification.objects.select_related("channel")
    if has_role(user, ADMIN):
        return rows
    return rows.filter(alarm__meter__in=meters_visible_to(user))
