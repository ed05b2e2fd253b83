"""The tariff editor in chromium: import the Guangdong plan, read its hours, bars and
calendar, see a mistake marked while typing, add and remove a row, save, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from meters import roles
from tariffs.models import TariffPlan
from tests.browser.conftest import PASSWORD, log_in
from tests.factories import UserFactory
from tests.tariffs.conftest import GUANGDONG

BAD_START = 'input[name="sets[0].day_tables.2[3].start"]'


@pytest.fixture
def clerk(transactional_db: None) -> Any:
    roles.sync_roles()
    from django.contrib.auth.models import Group

    user = UserFactory(username="clerk")
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=roles.BILLING))
    return user


def test_the_editor_checks_previews_and_saves_a_plan(browser_page: Any, clerk: Any,
                                                     tmp_path: Path) -> None:
    page = browser_page
    log_in(page, "clerk")
    page.click("nav >> text=Tariffs")
    page.click("text=New plan")
    page.set_input_files("#import-file", str(GUANGDONG))
    page.click("text=Load into editor")
    expect(page.locator("#import-message")).to_contain_text("Loaded")
    expect(page.locator('input[name="name"]')).to_have_value("Guangdong industrial TOU (2021)")

    page.fill("#preview-month", "2026-07")
    sharp = page.locator('#hours-table tr[data-rate-label="Sharp"] .month-hours')
    expect(sharp).to_have_text("93.00")
    page.fill("#preview-month", "2026-04")
    expect(sharp).to_have_text("0.00")
    peak = page.locator('#hours-table tr[data-rate-label="Peak"] .month-hours')
    expect(peak).to_have_text("210.00")
    # Active and standby side by side, a 24-hour bar per day table, the year coloured by rate.
    expect(page.locator('.daybar[data-set="0"][data-table="2"] span')).to_have_count(9)
    expect(page.locator('.daybar[data-set="1"][data-table="1"] span')).to_have_count(6)
    year = page.locator("#year-calendar .cal-day")
    assert year.count() in (365, 366)
    expect(page.locator('#year-calendar [data-date$="-07-01"]')).to_have_attribute(
        "data-key", "s0t2")

    page.fill(BAD_START, "10:00")  # same start as the period above it
    mark = page.locator('[data-error-for="sets[0].day_tables.2[3].start"]')
    expect(mark).to_contain_text("already the start of entry [2]")
    expect(page.locator(BAD_START)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#plan-status")).to_contain_text("1 problem")
    page.fill(BAD_START, "11:00")
    expect(page.locator("#plan-status")).to_have_text("The plan is valid.")
    expect(mark).to_be_empty()

    table = page.locator('.set[data-set="0"] .daytable[data-table="1"]')
    table.locator("text=+ period").click()
    expect(table.locator('input[name="sets[0].day_tables.1[6].start"]')).to_have_value("20:00")
    table.locator('button[title="Remove period"]').last.click()
    expect(table.locator('input[name="sets[0].day_tables.1[6].start"]')).to_have_count(0)

    page.screenshot(path=str(tmp_path / "editor.png"), full_page=True)
    page.click("#save-plan")
    expect(page.locator(".messages")).to_contain_text("as version 1")
    plan = TariffPlan.objects.get()
    assert plan.latest.document == json.loads(GUANGDONG.read_text())

    with page.expect_download() as download:
        page.click("#export-link")
    exported = tmp_path / "export.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text()) == json.loads(GUANGDONG.read_text())


def test_an_operator_programs_a_meter_from_its_page(browser_page: Any, clerk: Any) -> None:
    from django.contrib.auth.models import Group

    from tariffs import services
    from tariffs.document import parse_plan
    from tests.factories import MeterFactory

    operator = UserFactory(username="op")
    operator.set_password(PASSWORD)
    operator.save()
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    plan = services.tariff_plan_create(
        document=parse_plan(json.loads(GUANGDONG.read_text())).document).plan
    meter = MeterFactory()
    services.tariff_plan_assign(plan=plan, meters=[meter], labels=[])

    page = browser_page
    log_in(page, "op")
    page.goto(f"/meters/{meter.pk}/")
    panel = page.locator("#tou-panel")
    expect(panel).to_contain_text("Guangdong industrial TOU (2021)")
    expect(panel.locator('tr[data-set="active"]')).to_contain_text("never read back")
    panel.locator("text=Program now").click()
    expect(page.locator("#tou-panel")).to_contain_text("queued")
    page.goto("/")
    expect(page.locator("#fleet-tou")).to_contain_text("1 meter with a TOU plan")
