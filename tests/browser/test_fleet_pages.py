"""A user logs in, sees the fleet, filters it and opens a meter, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from meters.models import Meter, Site
from provisioning.demo.seed import FleetShape
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def _table_rows(page: Any) -> Any:
    return page.locator("#meter-table tbody tr")


def test_login_leads_to_the_fleet_with_every_meter(browser_page: Any,
                                                   demo_fleet: FleetShape) -> None:
    log_in(browser_page, "admin")
    assert browser_page.locator("h1").inner_text() == "Fleet"
    assert _table_rows(browser_page).count() == Meter.objects.count() == 8


def test_wrong_password_stays_on_the_login_page(browser_page: Any,
                                                demo_fleet: FleetShape) -> None:
    log_in(browser_page, "admin", "not-the-password")
    assert "did not match" in browser_page.locator(".error").inner_text()
    assert browser_page.locator("#meter-table").count() == 0


def test_filtering_by_site_narrows_the_table_in_place(browser_page: Any,
                                                      demo_fleet: FleetShape) -> None:
    log_in(browser_page, "admin")
    site = Site.objects.get(name="Vienna Depot")
    expected = Meter.objects.filter(site=site).count()
    assert 0 < expected < Meter.objects.count()
    site_box = browser_page.locator("input[name=site]")
    site_box.fill(site.name)
    site_box.dispatch_event("change")
    browser_page.wait_for_url(re.compile(r"site="))  # htmx pushes the filter into the URL
    rows = _table_rows(browser_page)
    rows.first.wait_for()
    browser_page.wait_for_function(
        f"document.querySelectorAll('#meter-table tbody tr').length === {expected}")
    assert all(site.name in text for text in rows.all_inner_texts())


def test_a_meter_code_opens_its_page(browser_page: Any, demo_fleet: FleetShape) -> None:
    log_in(browser_page, "admin")
    link = _table_rows(browser_page).first.locator("a").first
    code = link.inner_text()
    link.click()
    browser_page.wait_for_url(re.compile(r"/meters/\d+/"))
    assert code in browser_page.locator("main, body").first.inner_text()


def test_a_tenant_viewer_sees_only_its_tenants_meters(browser_page: Any,
                                                      demo_fleet: FleetShape) -> None:
    log_in(browser_page, "viewer")
    visible = Meter.objects.filter(tenant__viewers__username="viewer").count()
    assert 0 < visible < Meter.objects.count()
    assert _table_rows(browser_page).count() == visible


def test_asyncio_still_works_after_a_browser_test(browser_page: Any) -> None:
    # Guards the fixture's scope: a Playwright loop left open would break asyncio.run() for
    # every later test in this worker.
    browser_page.goto("about:blank")


def test_asyncio_run_works_once_the_browser_is_closed() -> None:
    import asyncio

    async def answer() -> int:
        return 42

    assert asyncio.run(answer()) == 42
