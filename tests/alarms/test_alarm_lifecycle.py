"""Alarm lifecycle, roles, filters and notifications (webhook to a local HTTP server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.db import IntegrityError

from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm, NotificationChannel
from meters.alarms.rules import Condition, evaluate
from meters.alarms.services import alarm_raise, alarm_resolve, notification_send
from meters.alarms.tasks import notify_alarm
from meters.alarms.thresholds import thresholds_for
from tests.factories import MeterFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OVER = Condition(AlarmKind.OVER_VOLTAGE, "voltage above 264.0 V", {"phases": {"voltage_a": 280}})


def test_thresholds_follow_manual_defaults_and_ratios() -> None:
    limits = thresholds_for(profile_name="kpm37", pt_ratio=1.0, ct_ratio=20.0)
    assert limits.over_voltage_v == pytest.approx(264.0)
    assert limits.voltage_loss_v == pytest.approx(44.0)
    assert limits.over_current_a == pytest.approx(120.0)
    healthy = {"voltage_a": 230, "voltage_b": 231, "voltage_c": 229,
               "current_a": 10, "current_b": 10, "current_c": 10}
    outcome = evaluate(healthy, limits)
    assert set(outcome) >= {AlarmKind.OVER_VOLTAGE, AlarmKind.CURRENT_IMBALANCE}
    assert not any(outcome.values())
    lost = evaluate({**healthy, "voltage_b": 10}, limits)
    assert lost[AlarmKind.VOLTAGE_LOSS].details["phases"] == {"voltage_b": 10.0}
    assert evaluate({"frequency": 50}, limits) == {}  # nothing judged, nothing cleared


@pytest.mark.django_db
def test_repeat_counts_and_one_open_alarm_per_meter_and_kind() -> None:
    meter = MeterFactory()
    first = alarm_raise(meter_id=meter.pk, condition=OVER, at=T0)
    again = alarm_raise(meter_id=meter.pk, condition=OVER, at=T0 + timedelta(minutes=1))
    assert again.pk == first.pk and again.count == 2
    assert again.last_seen_at == T0 + timedelta(minutes=1) and again.first_seen_at == T0
    with pytest.raises(IntegrityError):
        Alarm.objects.create(meter=meter, kind=AlarmKind.OVER_VOLTAGE, source="meter",
                             severity="major", first_seen_at=T0, last_seen_at=T0)


@pytest.mark.django_db
def test_operator_acknowledges_and_clears_viewer_and_outsider_cannot(
        operator: Any, tenant_viewer: Any, tenant: Any, outsider: Any,
        api_client_as: Any) -> None:
    meter = MeterFactory(tenant=tenant)
    alarm = alarm_raise(meter_id=meter.pk, condition=OVER, at=T0)
    url = f"/api/alarms/{alarm.pk}/"
    assert api_client_as(outsider).get("/api/alarms/").status_code == 403
    viewer = api_client_as(tenant_viewer)
    assert viewer.get(f"/api/alarms/?meter={meter.code}").json()["count"] == 1
    assert viewer.post(url + "acknowledge/", {}).status_code == 403
    op = api_client_as(operator)
    assert op.get("/api/alarms/?state=active&severity=major").json()["count"] == 1
    assert op.get("/api/alarms/?state=cleared").json()["count"] == 0
    response = op.post(url + "acknowledge/", {"comment": "on it"}, format="json")
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_by"] == "operator"
    again = op.post(url + "acknowledge/", {}, format="json")
    assert again.status_code == 400 and "state" in again.json()
    assert op.post(url + "clear/").json()["state"] == "cleared"
    # The condition returning opens a new alarm, the cleared one stays as history.
    assert alarm_raise(meter_id=meter.pk, condition=OVER).pk != alarm.pk


@pytest.mark.django_db
def test_condition_ending_clears_automatically() -> None:
    meter = MeterFactory()
    alarm_raise(meter_id=meter.pk, condition=OVER, at=T0)
    assert alarm_resolve(meter_id=meter.pk, kind=AlarmKind.OVER_VOLTAGE, at=T0) == 1
    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.CLEARED and alarm.cleared_by is None


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server on a free port recording the JSON posted to it."""
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook.received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.django_db
def test_webhook_test_button_notification_and_rate_limit(
        webhook: Any, admin: Any, api_client_as: Any, settings: Any) -> None:
    settings.ALARM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the local receiver is loopback
    url, received = webhook
    channel = NotificationChannel.objects.create(name="ops", kind="webhook", target=url,
                                                 min_severity="major", max_per_hour=1)
    tested = api_client_as(admin).post(f"/api/alarm-channels/{channel.pk}/test/").json()
    assert tested["ok"] is True and received == [{"test": True,
                                                  "message": "KPM Fleet test notification"}]
    meter = MeterFactory()
    alarm = alarm_raise(meter_id=meter.pk, condition=OVER, at=T0)
    assert notify_alarm(alarm.pk) == 1
    assert received[-1]["kind"] == "over-voltage" and received[-1]["meter"] == meter.code
    assert notify_alarm(alarm.pk) == 0  # a redelivered task does not notify twice
    second = alarm_raise(meter_id=MeterFactory().pk, condition=OVER, at=T0)
    limited = notification_send(channel=channel, alarm=second)
    assert limited.suppressed and len(received) == 2  # over max_per_hour: counted, not sent


@pytest.mark.django_db
def test_channel_target_is_validated(admin: Any, api_client_as: Any) -> None:
    response = api_client_as(admin).post("/api/alarm-channels/", {
        "name": "bad", "kind": "email", "target": "not-an-address"}, format="json")
    assert response.status_code == 400 and "target" in response.json()
