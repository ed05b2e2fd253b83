"""The real KPM33B captures ingest correctly: all-zero refused, repeats dropped, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meters.alarms.choices import AlarmKind
from meters.alarms.models import Alarm
from meters.choices import MeterStatus
from meters.models import Meter
from meters.telemetry.batching import PacketBatcher
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, LatestState, Reading
from tests.telemetry.conftest import capture_lines

RECEIVED = datetime(2026, 1, 17, 20, 15, 30, tzinfo=UTC)


def ingest(topic: str, payloads: list[bytes], received_at: datetime = RECEIVED) -> Any:
    batcher = PacketBatcher()
    for n, payload in enumerate(payloads):
        batcher.feed(topic, payload, token=n)
    result, tokens = batcher.commit(flush=True, received_at=received_at)
    assert sorted(tokens) == list(range(len(payloads)))  # every packet may be acknowledged
    return result


@pytest.mark.django_db
def test_energy_log_refuses_zeros_drops_repeats_and_converts_time(capture_meters: Any) -> None:
    result = ingest("MQTT_ENY_NOW", capture_lines("kpm33b_MQTT_ENY_NOW_20260117-2020.log"))
    m27, m28, m29 = (capture_meters[c] for c in sorted(capture_meters))
    # 21:15 in Vienna (CET, UTC+1) is 20:15 UTC.
    local_2115 = datetime(2026, 1, 17, 20, 15, tzinfo=UTC)
    r27 = Reading.objects.get(meter=m27)
    assert r27.time == local_2115
    assert r27.values["import_active_energy"] == pytest.approx(163.486)
    assert r27.values["import_active_energy_r2"] == pytest.approx(25.344)
    # zszsz is not in V1.9 but every real capture has it: apparent energy (the profile says
    # why), so nothing of the capture is left unknown
    assert r27.values["apparent_energy"] == pytest.approx(164.331)
    assert r27.extra == {}
    # Meter 28 sent zeros then the real reading at the same time: the real one is stored.
    assert Reading.objects.get(meter=m28).values["import_active_energy"] == pytest.approx(31.057)
    assert Reading.objects.filter(meter=m29).count() == 1  # the 2005 clock, real values
    assert result.duplicates >= 1
    assert DeadLetter.objects.filter(kind=DeadLetterKind.ALL_ZERO).count() == result.dead[
        DeadLetterKind.ALL_ZERO] > 0
    assert not Reading.objects.filter(values__import_active_energy=0).exists()
    latest = LatestState.objects.get(meter=m27).values
    assert latest["import_active_energy"]["value"] == pytest.approx(163.486)
    assert latest["import_active_energy"]["time"] == local_2115.isoformat()
    assert Meter.objects.get(pk=m27.pk).status == MeterStatus.ONLINE
    # Meter 29's clock says 2005: a clock alarm on it alone.
    assert list(Alarm.objects.filter(kind=AlarmKind.CLOCK_OFF).values_list(
        "meter__code", flat=True)) == [m29.code]


@pytest.mark.django_db
def test_realtime_capture_and_missing_field(capture_meters: Any) -> None:
    ingest("MQTT_RT_DATA", capture_lines("kpm33b_MQTT_RT_DATA.json"),
           received_at=datetime(2026, 1, 12, 15, 39, 5, tzinfo=UTC))
    reading = Reading.objects.get()
    assert reading.values["voltage_a"] == pytest.approx(229.097)
    assert reading.values["active_power_total"] == pytest.approx(6.6905)
    assert reading.values["current_demand_a"] == pytest.approx(9.6838)  # iadm, captures only
    assert reading.values["angle_voltage_b"] == pytest.approx(239.774)  # uxjb, V1.9 §4.1
    assert reading.extra == {}
    assert reading.time == datetime(2026, 1, 12, 15, 39, tzinfo=UTC)
    assert not Alarm.objects.exists()  # a healthy meter: no alarm of any kind
    # The same message again is a duplicate; the variant without zyggl has the same time too.
    again = ingest("MQTT_RT_DATA", capture_lines("kpm33b_MQTT_RT_DATA_missing_data.json"))
    assert again.duplicates == 1 and Reading.objects.count() == 1


@pytest.mark.django_db
def test_energy_counter_going_backwards_is_refused_and_alarmed(capture_meters: Any) -> None:
    first = b'{"id":"33B1225950027","zygsz":163.486,"time":"20260117211500","isend":"1"}'
    lower = b'{"id":"33B1225950027","zygsz":150.000,"time":"20260117213000","isend":"1"}'
    ingest("MQTT_ENY_NOW", [first])
    result = ingest("MQTT_ENY_NOW", [lower])
    assert result.stored == 0 and result.dead[DeadLetterKind.COUNTER_BACKWARDS] == 1
    letter = DeadLetter.objects.get(kind=DeadLetterKind.COUNTER_BACKWARDS)
    assert "Import active energy 163.486 kWh -> 150.000 kWh" in letter.reason
    assert bytes(letter.payload) == lower
    assert Alarm.objects.get(kind=AlarmKind.COUNTER_BACKWARDS).meter.code == "33B1225950027"
