"""Celery tasks of meter jobs: thin, idempotent, by id; each calls a service.

Duplicates cost nothing: a gateway task whose bus is owned elsewhere returns at once (the owner
picks the job up between frames), and a job task finds its job no longer queued.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import DatabaseError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(DatabaseError, RedisError), retry_backoff=2,
             retry_backoff_max=60, max_retries=5)
def run_gateway_jobs(gateway_id: int) -> dict[str, Any]:
    """Become the owner of the gateway's bus (or find it owned) and run its queued jobs."""
    from meters.telemetry.polling import PollError, gateway_poll

    try:
        report = gateway_poll(gateway_id=gateway_id, meter_ids=[])
    except PollError as exc:
        logger.warning("run_gateway_jobs %s: %s", gateway_id, exc)
        return {"gateway_id": gateway_id, "claimed": False, "note": str(exc)}
    return report.as_dict()


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=2,
             retry_backoff_max=60, max_retries=5)
def run_mqtt_job(job_id: int) -> str:
    """Run one MQTT meter's job (V1.9 commands), if it is still queued and due."""
    from meters.jobs.mqtt_runner import mqtt_job_run

    return mqtt_job_run(job_id=job_id)


@shared_task(acks_late=True)
def sweep_jobs() -> dict[str, int]:
    """Beat, every 10 s: expire, reclaim lapsed and re-dispatch queued jobs from the outbox."""
    from meters.jobs.lifecycle import jobs_sweep

    return vars(jobs_sweep())
