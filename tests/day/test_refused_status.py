"""A meter whose readings are refused is never called Online: not by an all-zero message or a
duplicate, only by a reading that is stored again; an offline check still catches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meters.choices import MeterStatus
from meters.models import Meter
from meters.telemetry.pipeline import Candidate
from meters.telemetry.services import meters_mark_offline
from meters.telemetry.store import readings_store
from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _store(meter: Meter, minutes: int, energy: float) -> None:
    at = T0 + timedelta(minutes=minutes)
    readings_store(candidates=[Candidate(meter=meter, source="modbus", time=at, values={
        "import_active_energy": energy, "voltage_a": 0.0 if energy == 0 else 230.0})],
        received_at=at)


def _status(meter: Meter) -> str:
    meter.refresh_from_db()
    return meter.status


def test_refused_meter_stays_data_refused_until_a_reading_is_stored() -> None:
    meter = MeterFactory(poll_interval_s=60)
    _store(meter, 0, 100.0)
    assert _status(meter) == MeterStatus.ONLINE
    _store(meter, 1, 5.0)
    assert _status(meter) == MeterStatus.DATA_REFUSED
    _store(meter, 2, 0.0)  # an all-zero message: refused as such, proves nothing
    assert _status(meter) == MeterStatus.DATA_REFUSED
    _store(meter, 3, 100.5)  # the old counter again (e.g. a glitch passed): stored
    assert _status(meter) == MeterStatus.ONLINE


def test_a_silent_refused_meter_goes_offline() -> None:
    meter = MeterFactory(poll_interval_s=60)
    _store(meter, 0, 100.0)
    _store(meter, 1, 5.0)
    assert meters_mark_offline(now=T0 + timedelta(hours=1)) == [meter.pk]
    assert _status(meter) == MeterStatus.OFFLINE


def test_an_exchange_to_a_meter_with_more_energy_can_be_accepted(operator: object) -> None:
    from meters.telemetry.baselines import counter_baseline_accept
    from meters.telemetry.models import Reading, RefusedReading

    meter = MeterFactory(poll_interval_s=60)
    _store(meter, 0, 100.0)
    _store(meter, 1, 90_000.0)  # the new meter has counted for years: an implausible jump
    assert _status(meter) == MeterStatus.DATA_REFUSED
    assert RefusedReading.objects.filter(meter=meter).count() == 1
    baseline = counter_baseline_accept(meter=meter, user=operator, reason="meter exchanged")
    assert baseline.new_values == {"import_active_energy": 90_000.0}
    assert Reading.objects.filter(meter=meter).count() == 2
    _store(meter, 2, 90_000.2)
    assert _status(meter) == MeterStatus.ONLINE and Reading.objects.filter(meter=meter).count() == 3


def test_a_passing_glitch_is_not_offered_as_a_reset_once_the_meter_recovers() -> None:
    from meters.telemetry.baselines import refused_summary

    meter = MeterFactory(poll_interval_s=60)
    _store(meter, 0, 100.0)
    _store(meter, 1, 5.0)
    summary = refused_summary(meter)
    assert summary is not None and summary["count"] == 1
    _store(meter, 2, 100.1)  # the real counter again
    assert refused_summary(meter) is None and _status(meter) == MeterStatus.ONLINE
