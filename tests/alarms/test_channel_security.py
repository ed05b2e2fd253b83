"""Alarm channels are for admins; webhooks never reach the server's own network.

Issue 7: a tenant viewer read every channel (webhook URLs with their tokens, e-mail addresses)
and every notification; an operator's webhook could target loopback and private addresses and
the test button said what answered. The receiver here is a real HTTP server on loopback; the
only stand-in is a resolver answering differently at save and at send (DNS rebinding).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from meters.alarms.choices import AlarmKind, AlarmSource, Severity
from meters.alarms.models import Alarm, Notification, NotificationChannel
from meters.alarms.services import notification_send
from tests.factories import MeterFactory, TenantFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _Receiver(BaseHTTPRequestHandler):
    hits: list[str] = []
    status = 204

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hits.append(self.headers["Host"])
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[int, type[_Receiver]]]:
    """A webhook receiver on a free loopback port: (port, handler class with its hits)."""
    _Receiver.hits, _Receiver.status = [], 204
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, _Receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _alarm(meter: Any) -> Alarm:
    return Alarm.objects.create(kind=AlarmKind.OVER_VOLTAGE, source=AlarmSource.METER,
                                severity=Severity.MAJOR, meter=meter, first_seen_at=NOW,
                                last_seen_at=NOW)


def test_channels_are_for_admins_only(admin: Any, operator: Any, billing_clerk: Any,
                                      tenant_viewer: Any, api_client_as: Any) -> None:
    channel = NotificationChannel.objects.create(name="ops", kind="webhook",
                                                 target="https://hooks.example.com/T0K3N")
    for user in (operator, billing_clerk, tenant_viewer):
        client = api_client_as(user)
        assert client.get("/api/alarm-channels/").status_code == 403
        assert client.get(f"/api/alarm-channels/{channel.pk}/").status_code == 403
        assert client.post(f"/api/alarm-channels/{channel.pk}/test/").status_code == 403
        assert client.post("/api/alarm-channels/", {"name": "x", "kind": "email",
                                                     "target": "x@example.com"}).status_code == 403
    listed = api_client_as(admin).get("/api/alarm-channels/").json()
    assert [row["target"] for row in listed["results"]] == ["https://hooks.example.com/T0K3N"]


def test_a_viewer_sees_notifications_of_its_own_tenants_alarms_only(
        admin: Any, tenant: Any, tenant_viewer: Any, api_client_as: Any) -> None:
    channel = NotificationChannel.objects.create(name="mail", kind="email",
                                                 target="ops@example.com")
    own = _alarm(MeterFactory(tenant=tenant))
    other = _alarm(MeterFactory(tenant=TenantFactory(name="Other")))
    for alarm in (own, other, None):
        Notification.objects.create(channel=channel, alarm=alarm, sent_at=NOW, ok=True,
                                    detail="mailed ops@example.com")
    seen = api_client_as(tenant_viewer).get("/api/notifications/").json()["results"]
    assert [row["alarm"] for row in seen] == [own.pk]
    assert seen[0]["detail"] == ""  # the address it went to is the admin's business
    assert api_client_as(admin).get("/api/notifications/").json()["count"] == 3


@pytest.mark.parametrize(("target", "reason"), [
    ("http://127.0.0.1:8000/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10:6379/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://0.0.0.0:5432/", "unspecified"),
    ("http://no-such-host.invalid/", "does not resolve"),
])
def test_webhooks_to_the_servers_own_network_are_refused(admin: Any, api_client_as: Any,
                                                         target: str, reason: str) -> None:
    answer = api_client_as(admin).post("/api/alarm-channels/", {
        "name": "scan", "kind": "webhook", "target": target}, format="json")
    assert answer.status_code == 400
    assert reason in answer.json()["target"][0]
    assert not NotificationChannel.objects.exists()


def test_an_admin_may_allow_a_host(admin: Any, api_client_as: Any, settings: Any,
                                   receiver: Any) -> None:
    port, handler = receiver
    settings.ALARM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    client = api_client_as(admin)
    created = client.post("/api/alarm-channels/", {
        "name": "local", "kind": "webhook", "target": f"http://127.0.0.1:{port}/hook"},
        format="json")
    assert created.status_code == 201
    tested = client.post(f"/api/alarm-channels/{created.json()['id']}/test/").json()
    assert tested["ok"] is True and tested["detail"] == "delivered"
    assert handler.hits == [f"127.0.0.1:{port}"]


def test_the_test_button_says_nothing_about_what_answered(admin: Any, api_client_as: Any,
                                                          settings: Any, receiver: Any) -> None:
    port, handler = receiver
    settings.ALARM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    handler.status = 503
    channel = NotificationChannel.objects.create(name="local", kind="webhook",
                                                 target=f"http://127.0.0.1:{port}/hook")
    client = api_client_as(admin)
    failed = client.post(f"/api/alarm-channels/{channel.pk}/test/").json()
    assert failed["ok"] is False and failed["detail"] == "failed: not delivered"
    closed = NotificationChannel.objects.create(name="closed", kind="webhook",
                                                target="http://127.0.0.1:1/")
    answer = client.post(f"/api/alarm-channels/{closed.pk}/test/").json()
    assert answer["detail"] == "failed: not delivered"  # refused port: the same words


def test_the_test_button_is_rate_limited(admin: Any, api_client_as: Any) -> None:
    channel = NotificationChannel.objects.create(name="mail", kind="email",
                                                 target="ops@example.com")
    client = api_client_as(admin)
    answers = [client.post(f"/api/alarm-channels/{channel.pk}/test/").status_code
               for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]
    assert Notification.objects.count() == 5


def test_a_target_that_turned_private_after_saving_is_not_sent(receiver: Any) -> None:
    """Saved when it was public (here: written without the check), loopback at send time."""
    port, handler = receiver
    channel = NotificationChannel.objects.create(name="old", kind="webhook",
                                                 target=f"http://127.0.0.1:{port}/hook")
    sent = notification_send(channel=channel, force=True)
    assert sent.ok is False and "loopback" in sent.detail
    assert handler.hits == []


def test_dns_rebinding_between_save_and_send_does_not_reach_loopback(
        admin: Any, api_client_as: Any, receiver: Any, monkeypatch: Any) -> None:
    port, handler = receiver
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])  # public at save, then not
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example.net":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    created = api_client_as(admin).post("/api/alarm-channels/", {
        "name": "rebind", "kind": "webhook", "target": f"http://rebind.example.net:{port}/"},
        format="json")
    assert created.status_code == 201
    sent = notification_send(channel=NotificationChannel.objects.get(), force=True)
    assert sent.ok is False and "loopback" in sent.detail
    assert handler.hits == []
