"""Delivering one notification: an e-mail, or a webhook POST (see webhooks.py) with a short
timeout."""

from __future__ import annotations

import json
from typing import Any

from django.core.mail import send_mail

from meters.alarms.choices import ChannelKind
from meters.alarms.models import Alarm, NotificationChannel
from meters.alarms.webhooks import webhook_post

WEBHOOK_TIMEOUT_S = 5.0


def alarm_payload(alarm: Alarm | None) -> dict[str, Any]:
    """The JSON a webhook receives (and the facts an e-mail states)."""
    if alarm is None:
        return {"test": True, "message": "KPM Fleet test notification"}
    return {
        "id": alarm.pk, "kind": alarm.kind, "severity": alarm.severity, "state": alarm.state,
        "meter": alarm.meter.code, "message": alarm.message, "count": alarm.count,
        "first_seen_at": alarm.first_seen_at.isoformat(),
        "last_seen_at": alarm.last_seen_at.isoformat(), "details": alarm.details,
    }


def deliver(channel: NotificationChannel, alarm: Alarm | None) -> str:
    """Send now; returns a short description, raises OSError/ValueError on failure."""
    payload = alarm_payload(alarm)
    if channel.kind == ChannelKind.EMAIL:
        subject = ("[KPM Fleet] test notification" if alarm is None else
                   f"[KPM Fleet] {alarm.get_severity_display()}: {alarm.get_kind_display()} "
                   f"on {alarm.meter.code}")
        send_mail(subject, json.dumps(payload, indent=2), None, [channel.target])
        return f"mailed {channel.target}"
    return webhook_post(channel.target, payload, WEBHOOK_TIMEOUT_S)
