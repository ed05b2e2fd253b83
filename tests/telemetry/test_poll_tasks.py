"""The beat task that enqueues polls, called as a function (test_poll.py calls poll_gateway;
tests/integration runs both in real workers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from meters.telemetry.models import GatewayClaim, PollState
from meters.telemetry.tasks import poll_due_gateways
from tests.factories import GatewayFactory, MeterFactory


def test_beat_enqueues_one_poll_per_gateway_with_due_meters_after_commit(
        db: None, django_capture_on_commit_callbacks: Any) -> None:
    due = GatewayFactory()
    MeterFactory(gateway=due, address=1)
    MeterFactory(gateway=due, address=2)  # two due meters, still one task for the bus
    later = MeterFactory(address=1)
    PollState.objects.create(meter=later, next_poll_at=timezone.now() + timedelta(minutes=5))
    busy = MeterFactory(address=1).gateway
    GatewayClaim.objects.create(gateway=busy, busy_until=timezone.now() + timedelta(seconds=30))
    MeterFactory(address=1, gateway=GatewayFactory(enabled=False))
    MeterFactory(mqtt=True)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert poll_due_gateways() == 1
    assert len(callbacks) == 1  # sent only once the surrounding transaction commits
