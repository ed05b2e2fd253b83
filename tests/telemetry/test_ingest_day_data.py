"""MQTT_DAY_DATA (V1.9 §4.3) stores every tariff: the dd totals and the per-tariff sz tags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kpm37.mqtt.meter_side import tags_for
from kpm37.mqtt.outgoing import telemetry_packets
from kpm37.profile import load_profile
from kpm37.quantities import rate_counter
from kpm37.simulator.clock import SimClock
from kpm37.simulator.meter import SimMeter
from meters.telemetry.models import LatestState, Reading
from tests.telemetry.test_ingest_captures import ingest

TARIFFS = range(1, 5)  # §4.3 lists tariffs 1-4
# One 4G packet laid out as V1.9 §4.3 shows the three WiFi packets, values of our own
SECTION_4_3 = (b'{"id":"33B1225950027","zygdd":1200.5,"fygdd":3.25,"zwgdd":150.75,"fwgdd":2.5,'
               b'"zyjsz":100.5,"fyjsz":0.5,"zyfsz":300.25,"fyfsz":1.0,'
               b'"zypsz":500.0,"fypsz":1.25,"zyvsz":299.75,"fyvsz":0.5,'
               b'"time":"20260117000000","isend":"1"}')


@pytest.mark.django_db
def test_a_day_data_message_as_section_4_3_stores_every_tariff(capture_meters: Any) -> None:
    result = ingest("MQTT_DAY_DATA", [SECTION_4_3])
    assert result.stored == 1
    reading = Reading.objects.get(source="MQTT_DAY_DATA")
    assert reading.extra == {}
    values = reading.values
    assert values["import_active_energy"] == pytest.approx(1200.5)
    assert values["export_reactive_energy"] == pytest.approx(2.5)
    assert [values[rate_counter("import", r)] for r in TARIFFS] == pytest.approx(
        [100.5, 300.25, 500.0, 299.75])
    assert [values[rate_counter("export", r)] for r in TARIFFS] == pytest.approx(
        [0.5, 1.0, 1.25, 0.5])
    # 0:00 in Vienna on 17 January is 23:00 UTC the day before; frozen, so not "latest"
    assert reading.time == datetime(2026, 1, 16, 23, 0, tzinfo=UTC)
    assert not LatestState.objects.filter(meter=reading.meter).exists()


@pytest.mark.django_db
def test_the_simulators_day_data_in_three_packets_stores_every_tariff(
        capture_meters: Any) -> None:
    meter = SimMeter(load_profile("kpm33b"), code="33B1225950028", address=1,
                     clock=SimClock(utc_source=lambda: datetime(2026, 1, 17, 12, tzinfo=UTC)))
    held = meter.quantities()
    tags = tags_for(meter, "MQTT_DAY_DATA", held)
    packets = telemetry_packets(meter.code, "MQTT_DAY_DATA", datetime(2026, 1, 17), tags, 3)
    assert len(packets) == 3
    ingest("MQTT_DAY_DATA", packets)
    values = Reading.objects.get(source="MQTT_DAY_DATA").values
    for direction in ("import", "export"):
        for rate in range(1, 6):
            name = rate_counter(direction, rate)
            assert values[name] == pytest.approx(held[name], abs=1e-3), name
