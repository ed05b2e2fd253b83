"""Each role's pages in a real browser: its menu, its landing page, refusals in the layout.

Issue 13: a tenant viewer's menu offered Gateways, Dead letters, Unregistered, Import and
Admin, which answered a bare unstyled 403; a billing clerk had no page of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.demo.seed import FleetShape
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

MENUS = {
    "admin": ["Fleet", "Board", "Energy", "Gateways", "Alarms", "Tariffs", "Relays",
              "Dead letters", "Unregistered", "Audit", "Import", "API docs", "Admin"],
    "operator": ["Fleet", "Board", "Energy", "Gateways", "Alarms", "Tariffs", "Relays",
                 "Dead letters", "Unregistered", "Audit", "Import", "API docs"],
    "billing": ["Fleet", "Board", "Energy", "Gateways", "Tariffs", "Dead letters",
                "Unregistered", "Audit", "API docs"],
    "viewer": ["Fleet", "Board", "Energy", "Alarms", "Tariffs", "API docs"],
}


def _menu(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("nav.mainnav a").all_inner_texts()]


@pytest.mark.parametrize("username", list(MENUS))
def test_each_role_sees_only_its_menu_and_every_entry_opens(browser_page: Any,
                                                            demo_fleet: FleetShape,
                                                            username: str) -> None:
    log_in(browser_page, username)
    assert _menu(browser_page) == MENUS[username]
    for href in browser_page.locator("nav.mainnav a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"):
        if href in ("/admin/", "/api/docs/"):
            continue  # not pages of the layout
        answer = browser_page.goto(href)
        assert answer is not None and answer.status == 200, href
        assert _menu(browser_page) == MENUS[username], href


def test_a_refused_page_is_in_the_layout_with_the_menu(browser_page: Any,
                                                       demo_fleet: FleetShape) -> None:
    log_in(browser_page, "viewer")
    answer = browser_page.goto("/gateways/")
    assert answer is not None and answer.status == 403
    assert browser_page.locator("h1").inner_text() == "Not allowed"
    assert _menu(browser_page) == MENUS["viewer"]
    background = browser_page.locator("header.topbar").evaluate(
        "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(22, 32, 46)"  # styled by the site's stylesheet
    missing = browser_page.goto("/meters/999999/")
    assert missing is not None and missing.status == 404
    assert browser_page.locator("h1").inner_text() == "Not found"


def test_the_billing_clerk_lands_on_its_tenants_energy(browser_page: Any,
                                                       demo_fleet: FleetShape) -> None:
    log_in(browser_page, "billing")
    assert browser_page.url.endswith("/telemetry/energy/")
    assert browser_page.locator("h1").inner_text() == "Energy by tenant"
    assert browser_page.locator("#energy-table tbody tr").count() == 8
