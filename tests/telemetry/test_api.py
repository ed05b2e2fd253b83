"""Telemetry API: readings history with filters, latest state on the meter, dead letters,
unregistered meters and adoption, scoping by role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meters.models import Meter
from meters.telemetry.batching import PacketBatcher
from meters.telemetry.models import UnregisteredMeter
from tests.factories import MeterFactory

RECEIVED = datetime(2026, 3, 1, 11, 0, 30, tzinfo=UTC)


def feed(*payloads: bytes, topic: str = "MQTT_RT_DATA") -> None:
    batcher = PacketBatcher()
    for payload in payloads:
        batcher.feed(topic, payload)
    batcher.commit(flush=True, received_at=RECEIVED)


def rt(code: str, time: str, ua: float) -> bytes:
    return (f'{{"id":"{code}","ua":{ua},"ub":230,"uc":230,"f":50,"time":"{time}",'
            f'"isend":"1"}}').encode()


@pytest.mark.django_db
def test_readings_history_filters_and_latest_on_meter_detail(
        vienna: Any, operator: Any, api_client_as: Any) -> None:
    meter = MeterFactory(mqtt=True, site=vienna)
    feed(rt(meter.code, "20260301115900", 229), rt(meter.code, "20260301120000", 231))
    api = api_client_as(operator)
    rows = api.get(f"/api/meters/{meter.pk}/readings/?quantity=voltage_a").json()["results"]
    assert [r["values"] for r in rows] == [{"voltage_a": 231}, {"voltage_a": 229}]
    assert rows[0]["time"] == "2026-03-01T11:00:00Z"  # 12:00 Vienna (CET)
    since = api.get(f"/api/meters/{meter.pk}/readings/",
                    {"since": "2026-03-01T11:00:00Z"}).json()
    assert since["count"] == 1
    latest = api.get(f"/api/meters/{meter.pk}/").json()["latest"]
    assert latest["voltage_a"] == {"value": 231, "time": "2026-03-01T11:00:00+00:00",
                                   "label": "Voltage A", "unit": "V", "rate": None}
    assert latest["frequency"]["value"] == 50


@pytest.mark.django_db
def test_tenant_viewer_sees_only_own_meters_readings(
        vienna: Any, tenant: Any, tenant_viewer: Any, api_client_as: Any) -> None:
    mine = MeterFactory(mqtt=True, site=vienna, tenant=tenant)
    other = MeterFactory(mqtt=True, site=vienna)
    api = api_client_as(tenant_viewer)
    assert api.get(f"/api/meters/{mine.pk}/readings/").status_code == 200
    assert api.get(f"/api/meters/{other.pk}/readings/").status_code == 404
    assert api.get("/api/dead-letters/").status_code == 403


@pytest.mark.django_db
def test_dead_letters_and_adopting_an_unregistered_meter(
        vienna: Any, operator: Any, billing_clerk: Any, api_client_as: Any) -> None:
    stranger = "3071225200042"
    feed(b"not json", rt(stranger, "20260301120000", 230))
    api = api_client_as(operator)
    letters = api.get("/api/dead-letters/").json()["results"]
    assert sorted(d["kind"] for d in letters) == ["malformed", "unknown-meter"]
    assert any(d["payload_text"] == "not json" for d in letters)
    listed = api.get("/api/unregistered-meters/?adopted=false").json()["results"]
    assert [(u["code"], u["message_count"]) for u in listed] == [(stranger, 1)]
    pk = listed[0]["id"]
    assert api_client_as(billing_clerk).post(
        f"/api/unregistered-meters/{pk}/adopt/", {}).status_code == 403
    adopted = api.post(f"/api/unregistered-meters/{pk}/adopt/", {"site": "Vienna"},
                       format="json")
    assert adopted.status_code == 201, adopted.content
    meter = Meter.objects.get(code=stranger)
    assert (meter.transport, meter.site) == ("mqtt", vienna)
    assert UnregisteredMeter.objects.get().adopted_meter == meter
    again = api.post(f"/api/unregistered-meters/{pk}/adopt/", {}, format="json")
    assert again.status_code == 400 and "code" in again.json()
    feed(rt(stranger, "20260301120100", 230))  # now its messages are readings
    assert api.get(f"/api/meters/{meter.pk}/readings/").json()["count"] == 1
