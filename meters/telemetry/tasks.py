"""Celery tasks of the telemetry app (beat-scheduled): offline detection, retention, polling."""

from __future__ import annotations

from celery import shared_task

from meters.telemetry.services import meters_mark_offline, readings_purge


@shared_task(acks_late=True)
def mark_offline_meters() -> int:
    """Beat, every minute: meters silent for N intervals go offline and raise an alarm."""
    return len(meters_mark_offline())


@shared_task(acks_late=True)
def purge_old_readings() -> int:
    """Beat, daily: delete history older than TELEMETRY_RETENTION_DAYS."""
    return readings_purge()
