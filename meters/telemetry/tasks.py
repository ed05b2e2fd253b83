"""Celery tasks of the telemetry app (beat-scheduled): offline detection, retention, polling."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from meters.telemetry.polling import PollError, gateway_poll, gateways_due
from meters.telemetry.services import meters_mark_offline, readings_purge

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def mark_offline_meters() -> int:
    """Beat, every minute: meters silent for N intervals go offline and raise an alarm."""
    return len(meters_mark_offline())


@shared_task(acks_late=True)
def purge_old_readings() -> int:
    """Beat, daily: delete history older than TELEMETRY_RETENTION_DAYS."""
    return readings_purge()


@shared_task(acks_late=True)
def poll_due_gateways() -> int:
    """Beat, every 10 s: one poll_gateway task per gateway with due Modbus meters."""
    gateway_ids = gateways_due(now=timezone.now())
    for gateway_id in gateway_ids:
        poll_gateway.delay_on_commit(gateway_id)
    return len(gateway_ids)


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError, RedisError),
             retry_backoff=2, retry_backoff_max=300, retry_jitter=True, max_retries=5)
def poll_gateway(self: Task, gateway_id: int) -> dict[str, Any]:
    """Poll one gateway's due meters. Idempotent: a copy that finds the gateway claimed returns
    at once (the holder reads every due meter anyway), so duplicates cost nothing."""
    try:
        report = gateway_poll(gateway_id=gateway_id, worker=self.request.hostname or "")
    except PollError as exc:  # deleted, disabled or unpollable since it was queued
        logger.warning("poll_gateway %s: %s", gateway_id, exc)
        return {"gateway_id": gateway_id, "claimed": False, "note": str(exc)}
    return {**report.as_dict(), "worker": self.request.hostname}
