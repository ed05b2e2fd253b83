"""Telemetry and alarm pages render for the right roles and show what was ingested."""

from __future__ import annotations

from typing import Any

import pytest

from meters.alarms.choices import AlarmState
from meters.alarms.models import Alarm
from meters.alarms.rules import Condition
from meters.alarms.services import alarm_raise
from meters.telemetry.batching import PacketBatcher
from meters.telemetry.models import UnregisteredMeter
from tests.factories import MeterFactory


def feed(*payloads: bytes) -> None:
    batcher = PacketBatcher()
    for payload in payloads:
        batcher.feed("MQTT_RT_DATA", payload)
    batcher.commit(flush=True)


@pytest.mark.django_db
def test_live_panel_history_and_board(vienna: Any, operator: Any, client_as: Any) -> None:
    meter = MeterFactory(mqtt=True, site=vienna)
    feed(f'{{"id":"{meter.code}","ua":231.5,"ub":230,"uc":229,"time":"20260301120000"}}'
         .encode())
    client = client_as(operator)
    live = client.get(f"/telemetry/meters/{meter.pk}/live/").content.decode()
    assert "Voltage A" in live and "231.5" in live and "2026-03-01T11:00:00+00:00" in live
    history = client.get(f"/telemetry/meters/{meter.pk}/history/?quantity=voltage_a")
    assert history.status_code == 200 and b"chart.umd.min.js" in history.content
    assert b"231.5" in history.content
    board = client.get("/telemetry/board/", headers={"HX-Request": "true"})
    assert board.status_code == 200 and b'id="board"' in board.content
    assert b"<html" not in board.content  # the partial only


@pytest.mark.django_db
def test_dead_letters_unregistered_and_adopt_form(vienna: Any, operator: Any,
                                                  tenant_viewer: Any, client_as: Any) -> None:
    feed(b"{truncated", b'{"id":"3071225200042","ua":230,"time":"20260301120000"}')
    client = client_as(operator)
    page = client.get("/telemetry/dead-letters/").content.decode()
    assert "{truncated" in page and "payload: not valid JSON" in page
    assert "3071225200042" in client.get("/telemetry/unregistered/").content.decode()
    row = UnregisteredMeter.objects.get()
    client.post(f"/telemetry/unregistered/{row.pk}/adopt/", {"site": vienna.pk})
    row.refresh_from_db()
    assert row.adopted_meter.site == vienna
    assert client_as(tenant_viewer).get("/telemetry/dead-letters/").status_code == 403


@pytest.mark.django_db
def test_alarm_page_filters_and_acknowledge(operator: Any, tenant_viewer: Any,
                                            client_as: Any) -> None:
    meter, other = MeterFactory(), MeterFactory()
    condition = Condition("over-voltage", "voltage above 264.0 V")
    alarm = alarm_raise(meter_id=meter.pk, condition=condition)
    alarm_raise(meter_id=other.pk, condition=condition)
    client = client_as(operator)
    page = client.get(f"/alarms/?meter={meter.code}&state=active").content.decode()
    assert meter.code in page and other.code not in page and "Acknowledge" in page
    client.post(f"/alarms/{alarm.pk}/acknowledge/", {"comment": "looking"})
    assert Alarm.objects.get(pk=alarm.pk).state == AlarmState.ACKNOWLEDGED
    viewer = client_as(tenant_viewer)
    assert meter.code not in viewer.get("/alarms/").content.decode()  # not the viewer's tenant
    assert viewer.post(f"/alarms/{alarm.pk}/clear/").status_code == 403  # may not clear any
