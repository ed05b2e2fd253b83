"""COPY-based writes of a batch: rows land whole, dedupe and upsert hold, in the caller's
transaction (a rollback leaves nothing), twice in one transaction included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from meters.telemetry.bulk_write import latest_upsert, readings_insert
from meters.telemetry.models import LatestState, Reading
from tests.factories import MeterFactory

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def meters(db: None) -> list[Any]:
    return [MeterFactory(), MeterFactory()]


def _row(meter: Any, minutes: int, volts: float = 230.5) -> tuple[Any, ...]:
    return (meter.pk, "MQTT_RT_DATA", T0 + timedelta(minutes=minutes), T0,
            {"voltage_a": volts, "label": 'quote " and back\\slash\ttab'}, {"xyz": 1.5})


def test_readings_land_with_their_json_intact_and_repeats_are_skipped(meters: list[Any]
                                                                      ) -> None:
    a, b = meters
    assert readings_insert([_row(a, 0), _row(a, 1), _row(b, 0)]) == 3
    assert readings_insert([_row(a, 1, volts=999.0), _row(b, 5)]) == 1  # (a, 1) is a repeat
    stored = Reading.objects.get(meter=a, time=T0 + timedelta(minutes=1))
    assert stored.values == {"voltage_a": 230.5, "label": 'quote " and back\\slash\ttab'}
    assert stored.extra == {"xyz": 1.5} and stored.received_at == T0
    assert Reading.objects.count() == 4


def test_twice_in_one_transaction_and_a_rollback_leaves_nothing(meters: list[Any]) -> None:
    a, _ = meters
    with pytest.raises(RuntimeError), transaction.atomic():
        assert readings_insert([_row(a, 0)]) == 1
        assert readings_insert([_row(a, 1)]) == 1  # the first call's rows are not re-sent
        latest_upsert([(a.pk, {"voltage_a": {"value": 1.0, "time": T0.isoformat()}}, T0)])
        assert Reading.objects.count() == 2
        raise RuntimeError("the batch fails after the writes")
    assert not Reading.objects.exists() and not LatestState.objects.exists()


def test_latest_state_is_inserted_then_replaced_one_row_a_meter(meters: list[Any]) -> None:
    a, b = meters
    first = {"voltage_a": {"value": 230.0, "time": T0.isoformat()}}
    latest_upsert([(a.pk, first, T0), (b.pk, first, T0)])
    later = {**first, "current_a": {"value": 9.7, "time": T0.isoformat()}}
    latest_upsert([(a.pk, later, T0 + timedelta(minutes=1))])
    assert LatestState.objects.get(meter=a).values == later
    assert LatestState.objects.get(meter=a).updated_at == T0 + timedelta(minutes=1)
    assert LatestState.objects.get(meter=b).values == first
    assert LatestState.objects.count() == 2
