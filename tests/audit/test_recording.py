"""The actions that change things leave a record: who, when, from where, what, before/after."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from meters.alarms.choices import AlarmKind, AlarmSource, AlarmState, Severity
from meters.alarms.models import Alarm
from meters.audit.models import AuditRecord
from meters.audit.services import audit_record
from meters.models import Meter
from meters.telemetry.models import UnregisteredMeter
from tests.factories import GatewayFactory, MeterFactory, SiteFactory, TenantFactory, meter_code

pytestmark = pytest.mark.django_db
HEADER = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio\n"
BROWSER = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 (X11) Firefox/128"}


def records(kind: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(kind=kind).order_by("id"))


def test_api_meter_edit_records_who_where_and_only_what_changed(operator: Any) -> None:
    meter = MeterFactory(ct_ratio="1.0")
    api = APIClient(**BROWSER)
    api.force_authenticate(operator)
    answer = api.patch(f"/api/meters/{meter.pk}/", {"ct_ratio": "200"}, format="json")
    assert answer.status_code == 200, answer.content
    [record] = records("meter.update")
    assert (record.actor_name, record.actor_id, record.via) == ("operator", operator.pk, "api")
    assert (record.ip, record.user_agent) == ("203.0.113.7", "Mozilla/5.0 (X11) Firefox/128")
    assert (record.meter_id, record.meter_code, record.object_type) == (
        meter.pk, meter.code, "meters.Meter")
    assert (record.before, record.after, record.result) == (
        {"ct_ratio": "1.0"}, {"ct_ratio": "200.0"}, "ok")
    assert len(record.request_id) == 32


def test_api_create_and_delete_of_meters_sites_and_gateways(admin: Any,
                                                            api_client_as: Any) -> None:
    api = api_client_as(admin)
    gateway = GatewayFactory(name="bus-a")
    created = api.post("/api/meters/", {"code": meter_code(5), "transport": "modbus",
                                        "gateway": "bus-a", "address": 3, "site": "New Site",
                                        "tenant": "New Tenant"}, format="json")
    assert created.status_code == 201, created.content
    [meter_record] = records("meter.create")
    assert meter_record.after["gateway"] == "bus-a" and meter_record.after["address"] == "3"
    assert [r.object_repr for r in records("site.create")] == ["New Site"]
    assert [r.object_repr for r in records("tenant.create")] == ["New Tenant"]
    assert api.patch(f"/api/gateways/{gateway.pk}/", {"timeout_ms": 2500},
                     format="json").status_code == 200
    [gateway_record] = records("gateway.update")
    assert (gateway_record.before, gateway_record.after) == (
        {"timeout_ms": 1000}, {"timeout_ms": 2500})
    label = api.post("/api/labels/", {"name": "north"}, format="json")
    assert label.status_code == 201 and records("label.create")[0].after["name"] == "north"
    assert api.delete(f"/api/meters/{created.json()['id']}/").status_code == 204
    [deleted] = records("meter.delete")
    assert deleted.before["code"] == meter_code(5) and deleted.after is None


def test_a_refused_change_leaves_no_record(admin: Any, api_client_as: Any) -> None:
    meter = MeterFactory()
    answer = api_client_as(admin).delete(f"/api/sites/{meter.site_id}/")
    assert answer.status_code == 400
    assert not records("site.delete")


def test_csv_import_records_summary_and_each_meter(operator: Any, client_as: Any,
                                                   settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    GatewayFactory(name="bus-a")
    TenantFactory(name="T", site=SiteFactory(name="S"))  # an operator names, never creates them
    kept = MeterFactory(code=meter_code(1), gateway=GatewayFactory(name="bus-b"), address=9,
                        ct_ratio="5.0")
    client = client_as(operator)
    csv = (HEADER + f"{meter_code(1)},kpm37,modbus,bus-b,9,{kept.site.name},{kept.tenant.name},,"
           f"50,1\n{meter_code(2)},kpm37,modbus,bus-a,2,S,T,x;y,1,1\n")
    preview = client.post("/import/", {"file": SimpleUploadedFile("m.csv", csv.encode())},
                          **BROWSER).content.decode()
    action = re.search(r'action="(/import/[0-9a-f]{32}/confirm/)"', preview)
    assert action, preview
    assert client.post(action.group(1), **BROWSER).status_code == 200
    [summary] = records("import.apply")
    assert summary.after == {"created": 1, "updated": 1, "unchanged": 0}
    assert (summary.via, summary.actor_name, summary.ip) == ("page", "operator", "203.0.113.7")
    [created] = records("meter.create")
    assert created.meter_code == meter_code(2) and created.after["labels"] == ["x", "y"]
    [updated] = records("meter.update")
    assert (updated.meter_code, updated.before, updated.after) == (
        meter_code(1), {"ct_ratio": "5.0"}, {"ct_ratio": "50.0"})
    assert {r.request_id for r in (summary, created, updated)} == {summary.request_id}


def test_import_command_records_the_command_as_the_source(tmp_path: Path) -> None:
    GatewayFactory(name="bus-a")
    path = tmp_path / "m.csv"
    path.write_text(HEADER + f"{meter_code(3)},kpm37,modbus,bus-a,1,S,T,,1,1\n")
    call_command("import_meters", str(path))
    [summary] = records("import.apply")
    assert summary.via in ("command", "system") and summary.actor_id is None
    assert "OS user" in summary.process and "pid" in summary.process
    assert summary.who == summary.process


def test_alarm_acknowledge_and_clear_from_the_page(operator: Any, client_as: Any) -> None:
    meter = MeterFactory()
    now = datetime.now(UTC)
    alarm = Alarm.objects.create(kind=AlarmKind.OVER_VOLTAGE, source=AlarmSource.METER,
                                 severity=Severity.MAJOR, meter=meter, state=AlarmState.ACTIVE,
                                 first_seen_at=now, last_seen_at=now)
    client: Client = client_as(operator)
    client.post(f"/alarms/{alarm.pk}/acknowledge/", {"comment": "crew sent"}, **BROWSER)
    client.post(f"/alarms/{alarm.pk}/clear/", **BROWSER)
    ack, clear = records("alarm.acknowledge") + records("alarm.clear")
    assert (ack.meter_code, ack.detail, ack.after) == (meter.code, "crew sent",
                                                       {"state": "acknowledged"})
    assert (clear.before, clear.after, clear.via) == ({"state": "acknowledged"},
                                                      {"state": "cleared"}, "page")
    assert meter.code in ack.object_repr


def test_adoption_is_recorded(operator: Any, api_client_as: Any) -> None:
    SiteFactory(name="Vienna")
    now = datetime.now(UTC)
    row = UnregisteredMeter.objects.create(code=meter_code(7, communication="2"),
                                           first_seen_at=now, last_seen_at=now, message_count=4)
    answer = api_client_as(operator).post(f"/api/unregistered-meters/{row.pk}/adopt/",
                                          {"site": "Vienna"}, format="json")
    assert answer.status_code == 201, answer.content
    [record] = records("meter.adopt")
    assert record.meter_id == Meter.objects.get().pk and record.after["site"] == "Vienna"
    assert "4 times" in record.detail


def test_channel_changes_are_recorded_without_the_webhook_secret(admin: Any,
                                                                 api_client_as: Any,
                                                                 monkeypatch: Any) -> None:
    real = socket.getaddrinfo  # the target must resolve to a public address (no DNS here)
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: (
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
        if host == "hooks.example.com" else real(host, *a, **k)))
    api = api_client_as(admin)
    created = api.post("/api/alarm-channels/", {
        "name": "ops", "kind": "webhook",
        "target": "https://hooks.example.com/services/T00?token=s3cr3t"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.patch(f"/api/alarm-channels/{pk}/", {"enabled": False},
                     format="json").status_code == 200
    assert api.delete(f"/api/alarm-channels/{pk}/").status_code == 204
    made, changed, gone = (records("channel.create") + records("channel.update")
                           + records("channel.delete"))
    assert made.after["target"] == "https://hooks.example.com/services/T00?…"
    assert (changed.before, changed.after) == ({"enabled": True}, {"enabled": False})
    assert gone.before["name"] == "ops"
    assert "s3cr3t" not in str(list(AuditRecord.objects.values()))


def test_a_celery_task_is_the_source_of_what_it_records(db: None) -> None:
    from celery.signals import task_postrun, task_prerun

    from meters.audit.context import current_source
    from meters.relays.tasks import record_relay_outcomes

    outside = current_source()
    task_prerun.send(sender=record_relay_outcomes, task_id="t-42", task=record_relay_outcomes,
                     args=(), kwargs={})
    try:
        inside = current_source()
        record = audit_record(kind="meter.update", obj=MeterFactory())
    finally:
        task_postrun.send(sender=record_relay_outcomes, task_id="t-42",
                          task=record_relay_outcomes, args=(), kwargs={}, retval=0,
                          state="SUCCESS")
    assert inside.via == "task" and "record_relay_outcomes t-42" in inside.process
    assert (record.via, record.process) == ("task", inside.process)
    assert current_source() == outside


@pytest.mark.parametrize(("peer", "recorded"), [
    ("203.0.113.7", "203.0.113.7"),  # a client's own header is not believed
    ("127.0.0.1", "198.51.100.9"),  # our nginx's last entry is
])
def test_the_client_address_comes_from_x_forwarded_for_only_behind_our_proxy(
        operator: Any, peer: str, recorded: str) -> None:
    meter = MeterFactory(ct_ratio="1.0")
    api = APIClient(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.9")
    api.force_authenticate(operator)
    answer = api.patch(f"/api/meters/{meter.pk}/", {"ct_ratio": "5"}, format="json")
    assert answer.status_code == 200
    [record] = records("meter.update")
    assert record.ip == recorded
