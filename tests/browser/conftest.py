"""Browser fixtures: Debian's chromium driven by Playwright's sync API against live_server.

No browser download: Playwright launches /usr/bin/chromium. Without it these tests skip on a
developer machine and fail under FLEET_REQUIRE_SERVICES=1 (.ci/run installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import services
from provisioning.demo.seed import FleetShape, demo_fleet_seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "browser-test-pass"
SHAPE = FleetShape(gateways=2, meters_per_gateway=3, mqtt_meters=2, modbus_host="127.0.0.1",
                   modbus_port_base=15020)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless chromium for one test.

    Per test, not per session: while Playwright's sync API is open its event loop counts as
    running in this thread, which would break every later test in the worker that calls
    asyncio.run(). For the same reason Django would refuse ORM calls from this thread, though
    ours are all synchronous, hence DJANGO_ALLOW_ASYNC_UNSAFE for the test's length only.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if services.required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
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
