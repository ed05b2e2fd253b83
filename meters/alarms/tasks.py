"""Celery tasks of the alarms app: thin wrappers that take ids and call a service.

Services queue these tasks on commit, so the services are imported inside the task bodies:
the two modules never import each other at load time.
"""

from __future__ import annotations

from celery import shared_task

from meters.alarms.models import Alarm, NotificationChannel


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def notify_alarm(alarm_id: int) -> int:
    """Announce a new alarm on every matching channel; returns notifications recorded.

    Idempotent per channel: a channel that already announced this alarm is skipped, so a
    redelivered task does not notify twice.
    """
    from meters.alarms.services import channels_for, notification_send

    alarm = Alarm.objects.select_related("meter").filter(pk=alarm_id).first()
    if alarm is None:
        return 0
    done = set(alarm.notifications.values_list("channel_id", flat=True))
    sent = 0
    for channel in channels_for(alarm):
        if channel.pk not in done:
            notification_send(channel=channel, alarm=alarm)
            sent += 1
    return sent


@shared_task(acks_late=True)
def send_test_notification(channel_id: int) -> bool:
    """The channel's test button, run in the background; True if delivered."""
    from meters.alarms.services import notification_send

    channel = NotificationChannel.objects.filter(pk=channel_id).first()
    return bool(channel and notification_send(channel=channel, force=True).ok)
