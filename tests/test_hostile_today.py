"""A hostile user's pass over the day's new surfaces: meter jobs, relay commands, tariffs, the
audit trail, counter baselines, the time-zone switch, the history CSV and the energy page.

Every answer to bad input is a 4xx (or a page message) naming the field and the reason, never a
500, and nothing is half-applied; another tenant's meter is a 404, never its data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from meters.jobs.choices import JobState
from meters.jobs.models import MeterJob
from meters.local_time import SESSION_MODE
from meters.relays.models import RelayGroupCommand
from tariffs.models import TariffPlan
from tests.factories import MeterFactory

BIG = "x" * 10_000
GARBAGE = ["2026-13", "0000-00-00", "9" * 40, "-1", "a\x00b", BIG, "1e400", "[]"]
QUERY_NAMES = ["month", "date", "since", "until", "limit", "offset", "page", "start", "end",
               "from", "to", "tz", "meter", "state", "kind", "q", "gateway", "user", "action",
               "cursor", "quantity", "day", "year", "site", "tenant", "at"]
WRONG_TYPES = [None, "\x00", BIG, -1, 10**30, 1.5, [], {}, True, [1, "a"], {"a": {"b": []}},
               "9999-12-31T23:59:59Z"]
PLAN = Path(__file__).resolve().parents[1] / "tariffs" / "fixtures" / \
    "guangdong-industrial-tou-2021.json"

GET_PAGES = ["/audit/", "/audit/export.csv", "/api/audit/", "/api/audit/export/", "/api/jobs/",
             "/api/relay-groups/", "/api/tariffs/", "/telemetry/energy/", "/api/energy/",
             "/telemetry/meters/{pk}/history.csv", "/telemetry/meters/{pk}/history/",
             "/api/meters/{pk}/readings/", "/relays/groups/", "/tariffs/",
             "/api/tariffs/fleet-status/", "/jobs/meters/{pk}/", "/tariffs/fleet-tou/",
             "/tariffs/meters/{pk}/tou/", "/relays/meters/{pk}/", "/meters/{pk}/"]
METER_POSTS = {
    "/api/meters/{pk}/read/": ["names", "reason", "idempotency_key"],
    "/api/meters/{pk}/write/": ["values", "reason", "idempotency_key"],
    "/api/meters/{pk}/jobs/": ["kind", "payload", "reason", "idempotency_key"],
    "/api/meters/{pk}/relay/": ["output", "action", "reason"],
    "/api/meters/{pk}/baselines/": ["reason"],
    "/api/relay-groups/": ["output", "action", "reason", "label", "codes", "confirm_count"],
}
HIDDEN_PAGES = ["/api/meters/{pk}/readings/", "/api/meters/{pk}/baselines/",
                "/telemetry/meters/{pk}/history.csv", "/telemetry/meters/{pk}/history/",
                "/jobs/meters/{pk}/", "/relays/meters/{pk}/", "/tariffs/meters/{pk}/tou/",
                "/meters/{pk}/", "/api/meters/{pk}/"]


@pytest.fixture
def meter(db: None) -> Any:
    return MeterFactory()


@pytest.mark.parametrize("page", GET_PAGES)
def test_garbage_query_parameters_are_never_a_500(meter: Any, admin: Any, client_as: Any,
                                                 page: str) -> None:
    client = client_as(admin)
    for value in GARBAGE:
        answer = client.get(page.format(pk=meter.pk), {name: value for name in QUERY_NAMES})
        assert answer.status_code < 500, (value[:20], answer.status_code)


@pytest.mark.parametrize("path", list(METER_POSTS))
def test_wrong_json_types_for_every_field_are_a_4xx_and_change_nothing(
        meter: Any, admin: Any, api_client_as: Any, path: str) -> None:
    api = api_client_as(admin)
    url = path.format(pk=meter.pk)
    for value in WRONG_TYPES:
        answer = api.post(url, {field: value for field in METER_POSTS[path]}, format="json")
        assert 400 <= answer.status_code < 500, (value, answer.content[:200])
        assert answer.json(), "the answer names the field"
    for raw in ["[1, 2]", '"text"', "null", "{bad", "1e999999"]:
        answer = api.post(url, raw, content_type="application/json")
        assert 400 <= answer.status_code < 500, (raw, answer.content[:200])
    assert not MeterJob.objects.exists()


@pytest.mark.parametrize("pk", ["0", "999999", "9" * 25])
@pytest.mark.parametrize("path", ["/api/meters/{pk}/read/", "/api/meters/{pk}/relay/",
                                  "/api/meters/{pk}/baselines/", "/api/jobs/{pk}/cancel/",
                                  "/api/relay-groups/{pk}/approve/", "/api/tariffs/{pk}/program/"])
def test_ids_that_do_not_exist_are_a_404(admin: Any, api_client_as: Any, path: str,
                                         pk: str) -> None:
    answer = api_client_as(admin).post(path.format(pk=pk), {"reason": "hostile"}, format="json")
    assert answer.status_code == 404


@pytest.mark.parametrize("path", HIDDEN_PAGES)
def test_another_tenants_meter_is_a_404_for_a_tenant_viewer(
        meter: Any, tenant_viewer: Any, client_as: Any, api_client_as: Any, path: str) -> None:
    url = path.format(pk=meter.pk)
    assert client_as(tenant_viewer).get(url).status_code == 404
    if url.startswith("/api/"):
        assert api_client_as(tenant_viewer).get(url).status_code == 404
    assert meter.code not in client_as(tenant_viewer).get(
        "/api/energy/", {"meter": meter.pk}).content.decode()


def test_a_reused_idempotency_key_with_other_values_is_refused(
        meter: Any, operator: Any, api_client_as: Any) -> None:
    api = api_client_as(operator)
    url = f"/api/meters/{meter.pk}/read/"
    first = api.post(url, {"names": ["ct_ratio"], "idempotency_key": "k1"}, format="json")
    again = api.post(url, {"names": ["ct_ratio"], "idempotency_key": "k1"}, format="json")
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = api.post(url, {"names": ["pt_ratio"], "idempotency_key": "k1"}, format="json")
    assert other.status_code == 400 and "idempotency_key" in other.json(), other.content
    relay = f"/api/meters/{meter.pk}/relay/"
    body = {"output": 1, "action": "open", "reason": "hostile test"}
    opened = api.post(relay, body, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert opened.status_code == 201
    flipped = api.post(relay, {**body, "action": "close"}, format="json",
                       HTTP_IDEMPOTENCY_KEY="r1")
    assert flipped.status_code == 400 and "idempotency_key" in flipped.json(), flipped.content
    assert MeterJob.objects.count() == 2


@pytest.mark.parametrize(("body", "fields"), [
    ({"output": 3, "action": "open", "reason": "hostile"}, {"output"}),
    ({"output": 1, "action": "explode", "reason": "hostile"}, {"action"}),
    ({"output": "1\x00", "action": "open", "reason": "hostile"}, {"output"}),
])
def test_impossible_relay_commands_are_a_400_naming_the_field(
        meter: Any, operator: Any, api_client_as: Any, body: dict[str, Any],
        fields: set[str]) -> None:
    answer = api_client_as(operator).post(f"/api/meters/{meter.pk}/relay/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert fields <= set(answer.json()), answer.json()
    assert not MeterJob.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"names": ["no_such_register"]}, "names"),
    ({"names": ["ct_ratio\x00"]}, "names"),
    ({"values": {"serial_number": "X"}, "reason": "read-only"}, "values.serial_number"),
    ({"values": {"no_such_register": 1}, "reason": "unknown"}, "values"),
])
def test_names_not_in_the_profile_and_read_only_registers_are_refused(
        meter: Any, operator: Any, api_client_as: Any, body: dict[str, Any],
        field: str) -> None:
    path = "write" if "values" in body else "read"
    answer = api_client_as(operator).post(f"/api/meters/{meter.pk}/{path}/", body,
                                          format="json")
    assert answer.status_code == 400
    assert any(key.startswith(field) for key in answer.json()), answer.json()
    assert not MeterJob.objects.exists()


@pytest.mark.parametrize("state", [JobState.VERIFIED, JobState.FAILED, JobState.CANCELLED])
def test_cancelling_a_finished_job_is_a_400_and_leaves_it_as_it_was(
        meter: Any, operator: Any, api_client_as: Any, state: str) -> None:
    api = api_client_as(operator)
    job_id = api.post(f"/api/meters/{meter.pk}/read/", {}, format="json").json()["id"]
    MeterJob.objects.filter(pk=job_id).update(state=state, finished_at=timezone.now())
    answer = api.post(f"/api/jobs/{job_id}/cancel/")
    assert answer.status_code == 400 and "state" in answer.json()
    assert MeterJob.objects.get(pk=job_id).state == state


def test_a_baseline_on_a_meter_with_nothing_refused_is_a_400(
        meter: Any, operator: Any, api_client_as: Any) -> None:
    answer = api_client_as(operator).post(f"/api/meters/{meter.pk}/baselines/",
                                          {"reason": "nothing to accept"}, format="json")
    assert answer.status_code == 400 and "meter" in answer.json()


def test_a_tariff_with_ten_thousand_rows_is_a_400_and_stores_nothing(
        billing_clerk: Any, api_client_as: Any) -> None:
    doc = json.loads(PLAN.read_text())
    doc["sets"][0]["day_tables"]["1"] = [{"start": f"{i % 24:02d}:{i % 60:02d}", "rate": 1}
                                         for i in range(10_000)]
    api = api_client_as(billing_clerk)
    for url in ("/api/tariffs/validate/", "/api/tariffs/"):
        answer = api.post(url, doc, format="json")
        assert answer.status_code == 400 and answer.json(), answer.content[:200]
    assert not TariffPlan.objects.exists()


@pytest.mark.parametrize("target", ["x", "None", "-1", "fleet", BIG[:300]])
def test_the_time_zone_switch_goes_back_to_any_local_next_without_a_500(
        admin: Any, client_as: Any, target: str) -> None:
    client = client_as(admin)
    answer = client.post("/time-zone/", {"mode": "utc", "next": target})
    assert answer.status_code == 302 and answer["Location"] == target
    assert client.session[SESSION_MODE] == "utc"
    refused = client.post("/time-zone/", {"mode": "explode\x00", "next": "/"}, follow=True)
    assert refused.status_code == 200 and "unknown choice" in refused.content.decode()
    assert client.session[SESSION_MODE] == "utc"


@pytest.mark.parametrize("path", ["/time-zone/", "/telemetry/meters/{pk}/accept-baseline/",
                                  "/jobs/meters/{pk}/", "/relays/meters/{pk}/command/",
                                  "/relays/groups/new/", "/tariffs/new/", "/import/"])
def test_page_posts_without_a_csrf_token_are_refused(meter: Any, admin: Any,
                                                     path: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    answer = client.post(path.format(pk=meter.pk), {"mode": "utc", "reason": "csrf"})
    assert answer.status_code == 403
    assert not MeterJob.objects.exists() and not TariffPlan.objects.exists()


@pytest.fixture
def plan_id(billing_clerk: Any, api_client_as: Any) -> int:
    answer = api_client_as(billing_clerk).post("/api/tariffs/", json.loads(PLAN.read_text()),
                                               format="json")
    return int(answer.json()["id"])


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31", "2100-01-01"])
def test_a_tariff_preview_outside_the_calendar_span_is_a_400_naming_the_date(
        plan_id: int, billing_clerk: Any, api_client_as: Any, day: str) -> None:
    answer = api_client_as(billing_clerk).get(f"/api/tariffs/{plan_id}/preview/", {"date": day})
    assert answer.status_code == 400 and "date" in answer.json(), answer.content


@pytest.mark.parametrize("form", [{"meter_codes": "3071024600001\x00"},
                                  {"labels": ["tower\x00a"]},
                                  {"meter_codes": "\x00", "unassign": "1"}])
def test_a_nul_in_the_assign_form_is_a_page_message_and_assigns_nothing(
        plan_id: int, billing_clerk: Any, client_as: Any, form: dict[str, Any]) -> None:
    answer = client_as(billing_clerk).post(f"/tariffs/{plan_id}/assign/", form, follow=True)
    assert answer.status_code == 200
    assert "NUL character" in answer.content.decode()
    assert not TariffPlan.objects.get(pk=plan_id).assignments.exists()


@pytest.mark.parametrize(("args", "named"), [
    (["read", "3071024600001\x00"], "code"),
    (["read", "{code}", "ct_ratio\x00"], "names"),
    (["write", "{code}", "ct_ratio=5", "--reason", "x", "--user", "nobody\x00"], "user"),
    (["read", "{code}", "--timeout", "nan"], "timeout"),
    (["read", "{code}", "--timeout", "-1"], "timeout"),
])
def test_the_meter_command_refuses_bad_arguments_by_name(meter: Any, args: list[str],
                                                         named: str) -> None:
    with pytest.raises((CommandError, SystemExit)) as refused:
        call_command("meter", *[a.format(code=meter.code) for a in args], "--no-wait")
    if isinstance(refused.value, CommandError):
        assert named in str(refused.value)
    assert not MeterJob.objects.exists()


@pytest.mark.parametrize("typed", [99, 0, "2"])
def test_a_wrong_typed_count_refuses_even_a_small_relay_group(db: None, operator: Any,
                                                              api_client_as: Any,
                                                              typed: Any) -> None:
    codes = [MeterFactory().code for _ in range(3)]
    answer = api_client_as(operator).post("/api/relay-groups/", {
        "output": 1, "action": "open", "reason": "hostile test", "codes": codes,
        "confirm_count": typed}, format="json")
    assert answer.status_code == 400 and "confirm_count" in answer.json(), answer.content
    assert not RelayGroupCommand.objects.exists() and not MeterJob.objects.exists()
