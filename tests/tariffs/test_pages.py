"""The tariff pages: list, editor (save, live check, row actions, import, export), roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tariffs.editor_form import form_to_raw, raw_to_form
from tariffs.models import TariffPlan
from tests.tariffs.conftest import GUANGDONG

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client_as: Any, billing_clerk: Any) -> Any:
    return client_as(billing_clerk)


def test_the_form_round_trips_a_document(guangdong: dict[str, Any]) -> None:
    from django.http import QueryDict

    posted = QueryDict(mutable=True)
    posted.update(raw_to_form(guangdong))
    raw = form_to_raw(posted)
    assert raw["sets"] == guangdong["sets"] and raw["billing_day"] == 1
    assert raw["rates"]["1"]["price"] == "1.381250"


def test_create_a_plan_in_the_editor(clerk: Any, guangdong: dict[str, Any]) -> None:
    assert clerk.get("/tariffs/new/").status_code == 200
    answer = clerk.post("/tariffs/new/", raw_to_form(guangdong))
    plan = TariffPlan.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/tariffs/{plan.pk}/"
    assert plan.latest.document == guangdong
    page = clerk.get(f"/tariffs/{plan.pk}/?preview_month=2026-07").content.decode()
    assert "The plan is valid." in page and "93.00" in page  # sharp hours in July
    assert page.count('class="cal-day') == 365


def test_an_invalid_save_shows_each_error_beside_its_input(clerk: Any,
                                                           guangdong: dict[str, Any]) -> None:
    form = raw_to_form(guangdong)
    form["sets[0].day_tables.2[3].start"] = "10:00"
    form["billing_day"] = "31"
    answer = clerk.post("/tariffs/new/", form)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'data-error-for="sets[0].day_tables.2[3].start">10:00 is already the start' in page
    assert 'data-error-for="billing_day">31 is outside 1-28' in page
    assert not TariffPlan.objects.exists()


def test_live_check_answers_errors_and_hours(clerk: Any, guangdong: dict[str, Any]) -> None:
    form = raw_to_form(guangdong) | {"preview_month": "2026-04"}
    valid = clerk.post("/tariffs/editor/check/", form).content.decode()
    assert "The plan is valid." in valid and "210.00" in valid  # peak hours in April
    form["sets[1].zones[1].day_table"] = "7"
    invalid = clerk.post("/tariffs/editor/check/", form).content.decode()
    errors = json.loads(invalid.split('id="plan-errors" type="application/json">')[1]
                        .split("</script>")[0])
    assert errors == {"sets[1].zones[1].day_table": ["day table 7 does not exist in this set"]}


def test_row_actions_add_and_remove_rows(clerk: Any, guangdong: dict[str, Any]) -> None:
    form = raw_to_form(guangdong) | {"action": "add-period:0:1"}
    page = clerk.post("/tariffs/editor/rows/", form).content.decode()
    assert 'name="sets[0].day_tables.1[6].start" value="20:00"' in page
    form = raw_to_form(guangdong) | {"action": "remove-zone:1:2"}
    page = clerk.post("/tariffs/editor/rows/", form).content.decode()
    assert 'name="sets[1].zones[2].start"' not in page
    forged = raw_to_form(guangdong) | {"action": "remove-zone:1:99"}
    assert clerk.post("/tariffs/editor/rows/", forged).status_code == 200


def test_import_loads_a_file_into_the_editor(clerk: Any) -> None:
    upload = SimpleUploadedFile("plan.json", GUANGDONG.read_bytes(), "application/json")
    page = clerk.post("/tariffs/editor/import/", {"file": upload}).content.decode()
    assert "Loaded “Guangdong industrial TOU (2021)”" in page
    assert 'name="sets[1].day_tables.2[8].start" value="19:00"' in page
    assert not TariffPlan.objects.exists()  # nothing saved until the user saves


@pytest.mark.parametrize(("content", "reason"), [
    (b"[" * 10_000, "nested"), (b"\xff\xfe", "UTF-8"), (b"[1, 2]", "one JSON object"),
    (b"x" * 300_000, "at most"),
])
def test_a_bad_import_file_says_why(clerk: Any, content: bytes, reason: str) -> None:
    upload = SimpleUploadedFile("plan.json", content, "application/json")
    page = clerk.post("/tariffs/editor/import/", {"file": upload}).content.decode()
    assert "Not imported" in page and reason in page


def test_export_downloads_the_version(clerk: Any, guangdong: dict[str, Any]) -> None:
    clerk.post("/tariffs/new/", raw_to_form(guangdong))
    plan = TariffPlan.objects.get()
    answer = clerk.get(f"/tariffs/{plan.pk}/export/")
    assert json.loads(answer.content) == guangdong
    assert 'filename="guangdong-industrial-tou-2021-v1.json"' in answer["Content-Disposition"]


def test_an_operator_may_look_but_not_save(client_as: Any, operator: Any, clerk: Any,
                                           guangdong: dict[str, Any]) -> None:
    clerk.post("/tariffs/new/", raw_to_form(guangdong))
    plan = TariffPlan.objects.get()
    as_operator = client_as(operator)
    page = as_operator.get(f"/tariffs/{plan.pk}/").content.decode()
    assert "may view plans, not change them" in page
    guangdong["billing_day"] = 5
    assert as_operator.post(f"/tariffs/{plan.pk}/", raw_to_form(guangdong)).status_code == 403
    assert plan.versions.count() == 1


def test_outsiders_get_403(client_as: Any, outsider: Any) -> None:
    assert client_as(outsider).get("/tariffs/").status_code == 403


def test_assign_and_unassign_from_the_plan_page(clerk: Any, guangdong: dict[str, Any]) -> None:
    from tests.factories import LabelFactory, MeterFactory

    clerk.post("/tariffs/new/", raw_to_form(guangdong))
    plan = TariffPlan.objects.get()
    meter, label = MeterFactory(), LabelFactory(name="tower-a")
    clerk.post(f"/tariffs/{plan.pk}/assign/", {"meter_codes": f" {meter.code}, ",
                                               "labels": ["tower-a"]})
    assert {(a.meter, a.label) for a in plan.assignments.all()} == {(meter, None),
                                                                     (None, label)}
    refused = clerk.post(f"/tariffs/{plan.pk}/assign/", {"meter_codes": "3071025109999 nope"},
                         follow=True).content.decode()
    assert "Nothing assigned: no meter 3071025109999; no meter NOPE" in refused
    clerk.post(f"/tariffs/{plan.pk}/assign/", {"labels": ["tower-a"], "unassign": "1"})
    assert list(plan.assignments.values_list("meter", flat=True)) == [meter.pk]


@pytest.mark.parametrize("document", [
    {"sets": [1, "x"], "rates": {"1": 5}, "name": 3},
    {"sets": [{"zones": "x", "day_tables": [1]}, {"zones": [None], "day_tables": {"1": "x"}}]},
    {"sets": [{"zones": [{"start": 1}], "day_tables": {"1": [None, {"rate": "x"}]}}] * 2,
     "rates": {"x": {}}, "switch_zones_at": 5},
])
def test_a_hostile_file_is_drawn_with_its_errors(clerk: Any, document: dict[str, Any]) -> None:
    upload = SimpleUploadedFile("plan.json", json.dumps(document).encode(), "application/json")
    answer = clerk.post("/tariffs/editor/import/", {"file": upload})
    assert answer.status_code == 200
    assert "problem" in answer.content.decode()


def test_forged_form_fields_are_ignored_or_refused(clerk: Any, guangdong: dict[str, Any]) -> None:
    form = raw_to_form(guangdong) | {"sets[0].day_tables.0[0].start": "00:00",
                                     "sets[0].day_tables.0[0].rate": "3",
                                     "sets[5].zones[0].start": "01-01",
                                     "sets[0].zones[999].start": "01-01", "rates.9.used": "1"}
    page = clerk.post("/tariffs/editor/check/", form).content.decode()
    assert "day tables are numbered 1-8" in page
