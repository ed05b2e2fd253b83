"""Celery tasks of relay control: thin; each calls a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def record_relay_outcomes() -> int:
    """Beat, every 10 s: append the outcome of finished relay commands to the audit trail."""
    from meters.relays.outcomes import relay_outcomes_record

    return relay_outcomes_record()
