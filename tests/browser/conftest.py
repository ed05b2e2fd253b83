"""Browser fixtures: Debian's chromium driven by Playwright's sync API against live_server.

No browser download: Playwright launches /usr/bin/chromium. Without it these tests skip on a
developer machine and fail under FLEET_REQUIRE_SERVICES=1 (.ci/run installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import services
from provisioning.demo.seed import FleetShape, demo_fleet_seed

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls from
# a thread with a running loop, though ours are all synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "browser-test-pass"
SHAPE = FleetShape(gateways=2, meters_per_gateway=3, mqtt_meters=2, modbus_host="127.0.0.1",
                   modbus_port_base=15020)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium per test process."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if services.required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)  # generous: the CPU is shared
    yield page
    context.close()


@pytest.fixture
def demo_fleet(transactional_db: None) -> FleetShape:
    """The demo's seeded fleet (users admin, operator, billing, viewer with PASSWORD)."""
    demo_fleet_seed(shape=SHAPE, password=PASSWORD)
    return SHAPE


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, starting from the fleet page."""
    page.goto("/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
