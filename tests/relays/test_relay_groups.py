"""Group relay commands: the count typed back and a second operator above a set size, a
bounded rate, refusals per role, and the audit trail of every step."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from rest_framework.test import APIClient

from meters.audit.models import AuditRecord
from meters.jobs.models import MeterJob
from meters.relays.models import RelayGroupCommand
from tests.factories import LabelFactory, MeterFactory

pytestmark = pytest.mark.django_db


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def block_b(db: None) -> list[Any]:
    label = LabelFactory(name="block-b")
    return [MeterFactory(labels=[label]) for _ in range(7)]


def ask(user: Any, **extra: Any) -> Any:
    return api_as(user).post("/api/relay-groups/", {
        "output": 1, "action": "open", "reason": "building B maintenance", "label": "block-b",
        **extra}, format="json")


def test_above_the_size_the_count_is_typed_back_and_a_second_operator_approves(
        block_b: list[Any], operator: Any, second_operator: Any, settings: Any) -> None:
    settings.RELAY_GROUP_RATE_PER_MINUTE = 30
    assert "confirm_count" in ask(operator).json()
    assert "confirm_count" in ask(operator, confirm_count=6).json()
    answer = ask(operator, confirm_count=7)
    assert answer.status_code == 201, answer.content
    group = answer.json()
    assert (group["state"], group["meter_count"], group["needs_approval"]) == (
        "awaiting", 7, True)
    assert not MeterJob.objects.exists()  # nothing goes out before the approval
    own = api_as(operator).post(f"/api/relay-groups/{group['id']}/approve/", {}, format="json")
    assert own.status_code == 403 and "second operator" in own.json()["detail"]
    approved = api_as(second_operator).post(f"/api/relay-groups/{group['id']}/approve/",
                                            {"note": "checked with site"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == "dispatched"
    jobs = list(MeterJob.objects.filter(kind="relay").order_by("not_before"))
    assert len(jobs) == 7 and {j.requested_by_name for j in jobs} == {"operator2"}
    gaps = {b.not_before - a.not_before for a, b in pairwise(jobs)}
    assert gaps == {timedelta(seconds=2)}  # 30 a minute
    again = api_as(second_operator).post(f"/api/relay-groups/{group['id']}/approve/", {},
                                         format="json")
    assert again.status_code == 400 and MeterJob.objects.count() == 7
    kinds = list(AuditRecord.objects.filter(area="relay").order_by("id")
                 .values_list("kind", "actor_name"))
    assert kinds[0] == ("relay.group", "operator") and ("relay.approve", "operator2") in kinds
    assert kinds.count(("relay.command", "operator2")) == 7
    assert kinds[-1] == ("relay.dispatch", "operator2")


def test_a_small_group_goes_out_at_once(db: None, operator: Any) -> None:
    label = LabelFactory(name="kiosk")
    for _ in range(3):
        MeterFactory(labels=[label])
    answer = api_as(operator).post("/api/relay-groups/", {
        "output": 2, "action": "close", "reason": "reconnect kiosks", "label": "kiosk"},
        format="json")
    assert answer.status_code == 201 and answer.json()["state"] == "dispatched"
    assert MeterJob.objects.filter(kind="relay").count() == 3


def test_reject_and_withdraw(block_b: list[Any], operator: Any, second_operator: Any) -> None:
    first = ask(operator, confirm_count=7).json()["id"]
    assert api_as(second_operator).post(f"/api/relay-groups/{first}/reject/",
                                        {"note": "wrong block"}, format="json").json()[
        "state"] == "rejected"
    second = ask(operator, confirm_count=7).json()["id"]
    assert api_as(operator).post(f"/api/relay-groups/{second}/reject/", {},
                                 format="json").json()["state"] == "cancelled"
    assert not MeterJob.objects.exists()


@pytest.mark.parametrize("who", ["tenant_viewer", "billing_clerk"])
def test_viewer_and_billing_clerk_cannot_ask_or_approve(block_b: list[Any], who: str,
                                                        request: Any, operator: Any,
                                                        client_as: Any) -> None:
    user = request.getfixturevalue(who)
    assert ask(user, confirm_count=7).status_code == 403
    group = ask(operator, confirm_count=7).json()["id"]
    assert api_as(user).post(f"/api/relay-groups/{group}/approve/", {},
                             format="json").status_code == 403
    assert client_as(user).get("/relays/groups/").status_code == 403
    assert client_as(user).post(f"/relays/groups/{group}/approve/").status_code == 403
    assert RelayGroupCommand.objects.get().state == "awaiting"


def test_group_page_previews_names_meters_and_asks_for_the_count(
        block_b: list[Any], operator: Any, second_operator: Any, client_as: Any) -> None:
    client = client_as(operator)
    form = {"output": "1", "action": "open", "reason": "building B maintenance",
            "label": "block-b", "codes": ""}
    preview = client.post("/relays/groups/new/", form).content.decode()
    assert "Yes, open output 1 of these 7 meters" in preview
    assert all(m.code in preview for m in block_b) and 'name="confirm_count"' in preview
    wrong = client.post("/relays/groups/new/", {**form, "confirmed": "yes",
                                                "confirm_count": "70"}).content.decode()
    assert "type the number of meters (7)" in wrong and not RelayGroupCommand.objects.exists()
    done = client.post("/relays/groups/new/", {**form, "confirmed": "yes",
                                               "confirm_count": "7"})
    group = RelayGroupCommand.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/relays/groups/{group.pk}/"
    mine = client.get(done["Location"]).content.decode()
    assert "Waiting for a second operator" in mine and "Approve:" not in mine
    other = client_as(second_operator)
    assert "Approve: open output 1 of 7 meters" in other.get(done["Location"]).content.decode()
    other.post(f"/relays/groups/{group.pk}/approve/", {"note": "ok"})
    page = other.get(done["Location"]).content.decode()
    assert page.count('data-state="queued"') == 7
