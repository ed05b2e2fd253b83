"""Relay commands to a simulated Modbus meter: API and page, confirmation, read-back, refusals
by role and by alarm mode, and the audit trail of each."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from meters.audit.models import AuditRecord
from meters.jobs.choices import Priority
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from meters.relays.outcomes import relay_outcomes_record
from tests.jobs.conftest import SimBus

BROWSER = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "OpsConsole/2"}


def api_as(user: Any) -> APIClient:
    client = APIClient(**BROWSER)
    client.force_authenticate(user)
    return client


def test_operator_closes_then_opens_a_relay_confirmed_by_read_back(bus: SimBus,
                                                                   operator: Any) -> None:
    meter, sim = bus.meters[3], bus.sims[3]
    url = f"/api/meters/{meter.pk}/relay/"
    for action, closed in (("close", True), ("open", False)):
        answer = api_as(operator).post(url, {"output": 1, "action": action,
                                             "reason": "tenant moved out"}, format="json")
        assert answer.status_code == 201, answer.content
        assert (answer.json()["state"], answer.json()["action"]) == ("queued", action)
        bus.run_jobs()
        assert sim.relay("do1") is closed
        command = api_as(operator).get(url).json()["commands"][0]
        assert command["state"] == "confirmed", command["failure"]
        assert command["read_back"]["do1"] is closed
    outputs = api_as(operator).get(url).json()["outputs"]
    assert outputs[0]["closed"] is False and outputs[0]["control_mode"] == "remote"
    accepted = AuditRecord.objects.filter(kind="relay.command", result="accepted")
    assert accepted.count() == 2
    first = accepted.earliest("id")
    assert (first.actor_name, first.ip, first.meter_code, first.detail) == (
        "operator", "203.0.113.9", meter.code, "tenant moved out")
    assert relay_outcomes_record() == 2
    assert relay_outcomes_record() == 0  # idempotent
    results = list(AuditRecord.objects.filter(kind="relay.result").order_by("id"))
    assert [r.detail for r in results] == [
        "confirmed: read back closed; asked: tenant moved out",
        "confirmed: read back open; asked: tenant moved out"]
    assert {r.actor_name for r in results} == {"operator"}
    assert MeterJob.objects.filter(kind="relay", priority=Priority.RELAY).count() == 2


@pytest.mark.parametrize("who", ["tenant_viewer", "billing_clerk"])
def test_viewer_and_billing_clerk_are_refused_on_page_and_api(
        bus: SimBus, who: str, request: Any, tenant: Any, client_as: Any) -> None:
    user = request.getfixturevalue(who)
    meter = bus.meters[7]
    meter.tenant = tenant  # the viewer's own meter: it may see it, not switch it
    meter.save()
    body = {"output": 1, "action": "open", "reason": "trying to cut supply"}
    assert api_as(user).post(f"/api/meters/{meter.pk}/relay/", body,
                             format="json").status_code == 403
    page = client_as(user).post(f"/relays/meters/{meter.pk}/command/",
                                {**body, "confirmed": "yes"})
    assert page.status_code == 403
    panel = client_as(user).get(f"/relays/meters/{meter.pk}/").content.decode()
    assert "relay-form" not in panel and "Output 1" in panel
    assert not MeterJob.objects.filter(kind="relay").exists()
    refused = AuditRecord.objects.filter(kind="relay.command", result="refused")
    assert refused.count() == 2 and {r.actor_name for r in refused} == {user.username}
    assert "only operators and admins" in refused.first().detail


def test_known_alarm_mode_is_refused_before_anything_is_sent(bus: SimBus,
                                                             operator: Any) -> None:
    meter, sim = bus.meters[12], bus.sims[12]
    sim.set_parameter("do2_control_mode", 1)  # alarm
    job_submit(meter=meter, kind="read", payload={"names": ["do2_control_mode"]})
    bus.run_jobs()  # the platform now knows it
    answer = api_as(operator).post(f"/api/meters/{meter.pk}/relay/",
                                   {"output": 2, "action": "close", "reason": "restore supply"},
                                   format="json")
    assert answer.status_code == 400 and "alarm mode" in answer.json()["output"][0]
    assert not MeterJob.objects.filter(kind="relay").exists()
    record = AuditRecord.objects.get(kind="relay.command")
    assert record.result == "refused" and "alarm mode" in record.detail


def test_unknown_mode_goes_and_the_meters_refusal_is_reported(bus: SimBus,
                                                              operator: Any) -> None:
    bus.sims[3].set_parameter("do1_control_mode", 1)  # alarm, but never read back yet
    answer = api_as(operator).post(f"/api/meters/{bus.meters[3].pk}/relay/",
                                   {"output": 1, "action": "close", "reason": "restore now"},
                                   format="json")
    assert answer.status_code == 201
    bus.run_jobs()
    command = api_as(operator).get(f"/api/meters/{bus.meters[3].pk}/relay/").json()[
        "commands"][0]
    assert command["state"] == "failed" and "alarm mode" in command["failure"]
    relay_outcomes_record()
    assert AuditRecord.objects.get(kind="relay.result").result == "failed"


def test_reason_output_and_action_are_checked(bus: SimBus, operator: Any) -> None:
    url = f"/api/meters/{bus.meters[3].pk}/relay/"
    for body, field in (({"output": 1, "action": "open"}, "reason"),
                        ({"output": 1, "action": "open", "reason": "x"}, "reason"),
                        ({"output": 3, "action": "open", "reason": "valid reason"}, "output"),
                        ({"output": 1, "action": "toggle", "reason": "valid reason"}, "action")):
        answer = api_as(operator).post(url, body, format="json")
        assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not MeterJob.objects.exists()


def test_page_asks_for_a_confirmation_naming_meter_and_action(bus: SimBus, operator: Any,
                                                              client_as: Any) -> None:
    meter = bus.meters[7]
    client = client_as(operator)
    detail = client.get(f"/meters/{meter.pk}/").content.decode()
    assert f"/relays/meters/{meter.pk}/" in detail
    body = {"output": 2, "action": "open", "reason": "unpaid since March"}
    ask = client.post(f"/relays/meters/{meter.pk}/command/", body).content.decode()
    assert f"Yes, open output 2 of {meter.code}" in ask and 'role="alertdialog"' in ask
    assert not MeterJob.objects.exists()  # nothing before the confirmation
    done = client.post(f"/relays/meters/{meter.pk}/command/", {**body, "confirmed": "yes"},
                       **BROWSER).content.decode()
    assert "Queued: open output 2" in done and 'data-state="queued"' in done
    assert "every 2s" in done  # polls while the command is pending
    bus.run_jobs()
    panel = client.get(f"/relays/meters/{meter.pk}/").content.decode()
    assert 'data-state="confirmed"' in panel and "read back open" in panel
    assert "every 30s" in panel
    assert AuditRecord.objects.get(kind="relay.command").via == "page"


def test_reading_the_relay_state_shows_outputs_and_modes(bus: SimBus, operator: Any,
                                                         client_as: Any) -> None:
    meter, sim = bus.meters[3], bus.sims[3]
    sim.set_parameter("do2_control_mode", 1)  # alarm
    client = client_as(operator)
    before = client.get(f"/relays/meters/{meter.pk}/").content.decode()
    assert "not read yet" in before
    reading = client.post(f"/relays/meters/{meter.pk}/read/").content.decode()
    assert "reading…" in reading and "every 2s" in reading
    bus.run_jobs()
    panel = client.get(f"/relays/meters/{meter.pk}/").content.decode()
    assert "not read yet" not in panel and "alarm (not remote)" in panel
    assert "level" in panel
    # The alarm-mode output is now refused up front.
    answer = api_as(operator).post(f"/api/meters/{meter.pk}/relay/",
                                   {"output": 2, "action": "open", "reason": "cut supply"},
                                   format="json")
    assert answer.status_code == 400 and "alarm mode" in str(answer.json())


def test_configuration_writes_are_recorded_with_what_was_read_back(bus: SimBus,
                                                                    operator: Any) -> None:
    job_submit(meter=bus.meters[7], kind="write", payload={"values": {"ct_ratio": 150.0}},
               requested_by=operator, reason="CT swapped")
    job_submit(meter=bus.meters[7], kind="read", payload={"names": ["ct_ratio"]})
    bus.run_jobs()
    assert relay_outcomes_record() == 1  # the write; a read changes nothing
    record = AuditRecord.objects.get(kind="job.write")
    assert (record.actor_name, record.meter_code, record.result) == (
        "operator", bus.meters[7].code, "ok")
    assert record.after["values"] == {"ct_ratio": 150.0}
    assert record.after["read_back"] == {"ct_ratio": 150.0}
    assert record.detail == "verified by read-back; asked: CT swapped"


def test_a_double_click_or_a_retried_request_queues_one_command(bus: SimBus, operator: Any,
                                                                client_as: Any) -> None:
    meter = bus.meters[3]
    client = client_as(operator)
    body = {"output": 1, "action": "open", "reason": "unpaid since March"}
    ask = client.post(f"/relays/meters/{meter.pk}/command/", body).content.decode()
    key = re.search(r'name="command_key" value="([0-9a-f]{32})"', ask)
    assert key, ask
    for _ in range(2):
        client.post(f"/relays/meters/{meter.pk}/command/",
                    {**body, "confirmed": "yes", "command_key": key.group(1)})
    api = api_as(operator)
    answers = [api.post(f"/api/meters/{meter.pk}/relay/", body, format="json",
                        HTTP_IDEMPOTENCY_KEY="retry-7f3a") for _ in range(2)]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert MeterJob.objects.filter(kind="relay").count() == 2
    assert AuditRecord.objects.filter(kind="relay.command").count() == 2
