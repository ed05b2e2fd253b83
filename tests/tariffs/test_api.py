"""The tariff API as a billing clerk, an operator and a hostile client use it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tariffs.models import TariffAssignment, TariffPlan, TariffPlanVersion
from tests.factories import LabelFactory, MeterFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(api_client_as: Any, billing_clerk: Any) -> Any:
    return api_client_as(billing_clerk)


def create(client: Any, doc: dict[str, Any]) -> Any:
    return client.post("/api/tariffs/", doc, format="json")


def test_create_list_and_read_a_plan(clerk: Any, guangdong: dict[str, Any]) -> None:
    answer = create(clerk, guangdong)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["version"] == 1 and body["document"] == guangdong
    listed = clerk.get("/api/tariffs/").json()["results"]
    assert [p["name"] for p in listed] == ["Guangdong industrial TOU (2021)"]


def test_an_edit_is_a_new_version_and_old_versions_stay(clerk: Any,
                                                       guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    guangdong["rates"]["3"]["price"] = "0.700000"
    answer = clerk.put(f"/api/tariffs/{plan_id}/", guangdong, format="json")
    assert answer.json()["version"] == 2
    assert [v["number"] for v in answer.json()["versions"]] == [2, 1]
    old = clerk.get(f"/api/tariffs/{plan_id}/?version=1").json()["document"]
    assert old["rates"]["3"]["price"] == "0.650000"
    unchanged = clerk.put(f"/api/tariffs/{plan_id}/", guangdong, format="json")
    assert unchanged.json()["version"] == 2  # the same document adds no version


def test_an_invalid_edit_changes_nothing(clerk: Any, guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    guangdong["sets"][0]["day_tables"]["2"][3]["start"] = "10:00"
    answer = clerk.put(f"/api/tariffs/{plan_id}/", guangdong, format="json")
    assert answer.status_code == 400
    assert "already the start" in answer.json()["sets[0].day_tables.2[3].start"][0]
    assert TariffPlanVersion.objects.filter(plan_id=plan_id).count() == 1


def test_hours_for_a_summer_and_a_spring_month(clerk: Any, guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    july = clerk.get(f"/api/tariffs/{plan_id}/hours/?month=2026-07").json()
    assert july["hours"] == {"1": "93.00", "2": "124.00", "3": "279.00", "4": "248.00",
                             "5": "0.00"}
    assert july["timezone"] == "Asia/Shanghai" and july["total"] == "744.00"
    april = clerk.get(f"/api/tariffs/{plan_id}/hours/?month=2026-04").json()
    assert april["hours"]["1"] == "0.00" and april["hours"]["2"] == "210.00"


def test_hours_in_a_sites_zone_have_the_summer_time_day(clerk: Any,
                                                        guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    vienna = SiteFactory(name="Vienna", timezone="Europe/Vienna")
    march = clerk.get(f"/api/tariffs/{plan_id}/hours/?month=2026-03&site={vienna.pk}").json()
    assert march["total"] == "743.00"
    day = clerk.get(f"/api/tariffs/{plan_id}/preview/?date=2026-10-25&site={vienna.pk}").json()
    assert len(day["hours"]) == 25
    assert [h["local_time"] for h in day["hours"][:4]] == ["00:00", "01:00", "02:00", "02:00"]


def test_preview_names_the_rate_and_price_of_each_hour(clerk: Any,
                                                       guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    day = clerk.get(f"/api/tariffs/{plan_id}/preview/?date=2026-08-03").json()
    rates = [h["rate"] for h in day["hours"]]
    assert rates == [4] * 8 + [3, 3, 2, 1, 3, 3, 2, 1, 1, 2, 2, 3, 3, 3, 3, 3]
    assert day["hours"][11]["rate_name"] == "Sharp" and day["hours"][11]["price"] == "1.381250"


@pytest.mark.parametrize("query", ["month=2026-13", "month=26-07", "", "month=2026-07&year=2026",
                                   "month=2026-07&version=9", "month=2026-07&site=999999"])
def test_bad_hours_queries_are_400(clerk: Any, guangdong: dict[str, Any], query: str) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    assert clerk.get(f"/api/tariffs/{plan_id}/hours/?{query}").status_code == 400


@pytest.mark.parametrize("body", [
    "[" * 50_000, '{"name": "\\u0000"}', "not json", '{"a": 1}' + " " * 300_000, "null",
    json.dumps({"name": "x", "currency": "CNY", "billing_day": 1, "rates": {"3": {"price": 1}},
                "sets": [{"zones": [{"start": "01-01", "day_table": 1}],
                          "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}] * 2,
                "note": "\x00"}),
])
def test_hostile_bodies_are_400_never_500(clerk: Any, body: str) -> None:
    answer = clerk.generic("POST", "/api/tariffs/", body, content_type="application/json")
    assert answer.status_code == 400
    assert TariffPlan.objects.count() == 0


def test_validate_checks_without_saving(clerk: Any, guangdong: dict[str, Any]) -> None:
    assert clerk.post("/api/tariffs/validate/", guangdong, format="json").json() == {
        "valid": True, "errors": {}}
    guangdong["billing_day"] = 31
    answer = clerk.post("/api/tariffs/validate/", guangdong, format="json").json()
    assert answer["valid"] is False and "billing_day" in answer["errors"]
    assert TariffPlan.objects.count() == 0


def test_export_is_the_document_as_a_file(clerk: Any, guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    answer = clerk.get(f"/api/tariffs/{plan_id}/export/")
    assert "attachment" in answer["Content-Disposition"]
    assert json.loads(answer.content) == guangdong


def test_delete_only_when_unused(clerk: Any, guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    meter, label = MeterFactory(), LabelFactory(name="tower-b")
    clerk.post(f"/api/tariffs/{plan_id}/assign/", {"meters": [meter.pk],
                                                   "labels": ["tower-b"]}, format="json")
    assert TariffAssignment.objects.count() == 2
    refused = clerk.delete(f"/api/tariffs/{plan_id}/")
    assert refused.status_code == 400 and "still assigned" in refused.json()["non_field_errors"][0]
    clerk.post(f"/api/tariffs/{plan_id}/assign/", {"meters": [meter.pk], "labels": [label.name],
                                                   "unassign": True}, format="json")
    assert clerk.delete(f"/api/tariffs/{plan_id}/").status_code == 204
    assert not TariffPlan.objects.exists()


def test_duplicate_names_are_refused(clerk: Any, guangdong: dict[str, Any]) -> None:
    create(clerk, guangdong)
    answer = create(clerk, guangdong)
    assert answer.status_code == 400 and "exists already" in answer.json()["name"][0]


def test_roles(api_client_as: Any, operator: Any, tenant_viewer: Any, outsider: Any,
               clerk: Any, guangdong: dict[str, Any]) -> None:
    plan_id = create(clerk, guangdong).json()["id"]
    as_operator = api_client_as(operator)
    assert as_operator.get(f"/api/tariffs/{plan_id}/hours/?month=2026-07").status_code == 200
    assert create(as_operator, guangdong).status_code == 403
    assert as_operator.delete(f"/api/tariffs/{plan_id}/").status_code == 403
    assert api_client_as(outsider).get("/api/tariffs/").status_code == 403
    assert create(api_client_as(tenant_viewer), guangdong).status_code == 403


def test_a_meters_desired_plan_comes_from_itself_or_its_labels(
        clerk: Any, guangdong: dict[str, Any]) -> None:
    from tariffs.selectors import meter_desired_plan

    first = create(clerk, guangdong).json()["id"]
    second = create(clerk, guangdong | {"name": "Second"}).json()["id"]
    a, b = LabelFactory(name="a"), LabelFactory(name="b")
    meter = MeterFactory(labels=[a, b])
    assert meter_desired_plan(meter) == (None, "no plan assigned")
    clerk.post(f"/api/tariffs/{first}/assign/", {"labels": ["a"]}, format="json")
    assert meter_desired_plan(meter)[0].pk == first  # type: ignore[union-attr]
    clerk.post(f"/api/tariffs/{second}/assign/", {"labels": ["b"]}, format="json")
    plan, why = meter_desired_plan(meter)
    assert plan is None and "labels name different plans" in why
    clerk.post(f"/api/tariffs/{second}/assign/", {"meters": [meter.pk]}, format="json")
    assert meter_desired_plan(meter) == (TariffPlan.objects.get(pk=second),
                                         "assigned to the meter")


def test_every_tariff_change_leaves_an_audit_record(clerk: Any, guangdong: dict[str, Any],
                                                    billing_clerk: Any) -> None:
    from meters.audit.models import AuditRecord

    plan_id = create(clerk, guangdong).json()["id"]
    guangdong["billing_day"] = 15
    clerk.put(f"/api/tariffs/{plan_id}/", guangdong, format="json")
    meter = MeterFactory()
    clerk.post(f"/api/tariffs/{plan_id}/assign/", {"meters": [meter.pk]}, format="json")
    clerk.post(f"/api/tariffs/{plan_id}/assign/", {"meters": [meter.pk], "unassign": True},
               format="json")
    clerk.delete(f"/api/tariffs/{plan_id}/")
    records = list(AuditRecord.objects.filter(area="tariff").order_by("id"))
    assert [r.kind for r in records] == ["tariff.create", "tariff.update", "tariff.assign",
                                         "tariff.unassign", "tariff.delete"]
    update = records[1]
    assert update.before["document"]["billing_day"] == 1
    assert update.after["document"]["billing_day"] == 15 and update.after["version"] == 2
    assert all(r.actor_name == billing_clerk.username for r in records)
    assert records[3].meter_code == meter.code
