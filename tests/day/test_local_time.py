"""Times are shown in the meter's site zone with the zone named; the reader may switch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meters.models import Meter
from tests.factories import MeterFactory, SiteFactory

pytestmark = pytest.mark.django_db

SEEN = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)


def _meter(zone: str) -> Meter:
    meter = MeterFactory(status="online", site=SiteFactory(timezone=zone))
    Meter.objects.filter(pk=meter.pk).update(last_seen_at=SEEN)
    return meter


def test_fleet_and_meter_page_show_site_time_with_zone(operator: Any, client_as: Any) -> None:
    vienna, shanghai = _meter("Europe/Vienna"), _meter("Asia/Shanghai")
    client = client_as(operator)
    fleet = client.get("/").content.decode()
    assert "2026-01-15 13:00:05 CET" in fleet
    assert "2026-01-15 20:00:05 CST" in fleet
    page = client.get(f"/meters/{vienna.pk}/").content.decode()
    assert "2026-01-15 13:00:05 CET" in page and 'title="Europe/Vienna"' in page
    assert shanghai.code in fleet


def test_reader_switches_to_utc_and_to_own_zone(operator: Any, client_as: Any) -> None:
    meter = _meter("Europe/Vienna")
    client = client_as(operator)
    answer = client.post("/time-zone/", {"mode": "utc", "next": f"/meters/{meter.pk}/"})
    assert answer.status_code == 302 and answer["Location"] == f"/meters/{meter.pk}/"
    assert "2026-01-15 12:00:05 UTC" in client.get(f"/meters/{meter.pk}/").content.decode()
    client.post("/time-zone/", {"mode": "mine", "mine": "America/Chicago"})
    assert "2026-01-15 06:00:05 CST" in client.get("/").content.decode()


def test_unknown_zone_is_refused_by_name(operator: Any, client_as: Any) -> None:
    meter = _meter("Europe/Vienna")
    client = client_as(operator)
    answer = client.post("/time-zone/", {"mode": "mine", "mine": "Mars/Olympus"}, follow=True)
    assert "unknown time zone &#x27;Mars/Olympus&#x27;" in answer.content.decode()
    assert "2026-01-15 13:00:05 CET" in client.get(f"/meters/{meter.pk}/").content.decode()


def test_api_names_rates_and_rounds_to_resolution(operator: Any, outsider: Any,
                                                  api_client_as: Any) -> None:
    from meters.telemetry.models import LatestState, Reading

    meter = _meter("Europe/Vienna")
    values = {"voltage_a": 220.52664184570312, "import_active_energy_r1": 12.3456789}
    Reading.objects.create(meter=meter, source="modbus", time=SEEN, received_at=SEEN,
                           values=values)
    LatestState.objects.create(meter=meter, updated_at=SEEN, values={
        n: {"value": v, "time": SEEN.isoformat()} for n, v in values.items()})
    api = api_client_as(operator)
    latest = api.get(f"/api/meters/{meter.pk}/").json()["latest"]
    assert latest["voltage_a"]["value"] == 220.5 and latest["voltage_a"]["unit"] == "V"
    sharp = latest["import_active_energy_r1"]
    assert sharp["rate"] == "sharp" and sharp["label"] == "Import active energy (sharp)"
    assert sharp["value"] == 12.346
    reading = api.get(f"/api/meters/{meter.pk}/readings/").json()["results"][0]
    assert reading["values"]["voltage_a"] == 220.5
    quantities = {q["name"]: q for q in api.get("/api/quantities/").json()}
    assert quantities["export_active_energy_r5"]["rate"] == "deep valley"
    assert quantities["current_a"]["decimals"] == 3
    assert api_client_as(outsider).get("/api/quantities/").status_code == 403


def test_history_csv_has_local_times_with_zone_and_human_headers(operator: Any,
                                                                 client_as: Any) -> None:
    from meters.telemetry.models import Reading

    meter = _meter("Asia/Shanghai")
    Reading.objects.create(meter=meter, source="modbus", time=SEEN, received_at=SEEN,
                           values={"voltage_a": 220.52664184570312})
    client = client_as(operator)
    answer = client.get(f"/telemetry/meters/{meter.pk}/history.csv?quantity=voltage_a"
                        "&since=2026-01-15T19:00")  # typed in the site's zone: 11:00 UTC
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    lines = b"".join(answer.streaming_content).decode().splitlines()
    assert lines == ["Time (Asia/Shanghai),\"Time (UTC, ISO 8601)\",Voltage A (V)",
                     "2026-01-15 20:00:05 CST,2026-01-15T12:00:05+00:00,220.5"]
    late = client.get(f"/telemetry/meters/{meter.pk}/history.csv?since=2026-01-15T20:01")
    assert len(b"".join(late.streaming_content).decode().splitlines()) == 1
    bad = client.get(f"/telemetry/meters/{meter.pk}/history.csv?since=yesterday")
    assert bad.status_code == 400 and b"since" in bad.content


def test_live_panel_shows_a_time_quantity_as_a_local_time(operator: Any, client_as: Any) -> None:
    from meters.telemetry.models import LatestState

    meter = _meter("Europe/Vienna")
    LatestState.objects.create(meter=meter, updated_at=SEEN, values={
        "max_active_demand_at": {"value": SEEN.timestamp(), "time": SEEN.isoformat()},
        "voltage_a": {"value": 220.52664184570312, "time": SEEN.isoformat()}})
    live = client_as(operator).get(f"/telemetry/meters/{meter.pk}/live/").content.decode()
    assert "Monthly max active demand time" in live and "1768478405" not in live
    assert live.count("2026-01-15 13:00:05 CET") == 3 and "220.5 V" in live
