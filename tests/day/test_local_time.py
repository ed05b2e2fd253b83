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
