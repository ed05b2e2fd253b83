"""The operator's first hour with the demo, in a browser: local times with their zone (and the
switch to UTC), a reset meter seen as "Data refused", accepted with a reason and recording again,
a history chart with a time axis and units, and no internal names or float noise anywhere."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from meters.local_time import format_local, zone_or_utc
from meters.models import Meter
from meters.telemetry.models import CounterBaseline, Reading
from meters.telemetry.pipeline import Candidate
from meters.telemetry.store import readings_store
from provisioning.demo.seed import FleetShape
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
INTERNAL = re.compile(r"import_active_energy|counter-backwards|voltage_a\b|_r[1-5]\b|"
                      r"\d+\.\d{6,}")


def _poll_like(meter: Meter, at: datetime, energy: float, volts: float = 220.52664184570312
               ) -> None:
    """What a poll stores, through the one ingest path (the real-poll test is in tests/day)."""
    readings_store(candidates=[Candidate(meter=meter, source="modbus", time=at, values={
        "voltage_a": volts, "voltage_b": volts, "voltage_c": volts,
        "import_active_energy": energy, "import_active_energy_r1": energy / 2,
        "import_active_energy_r3": energy / 2})], received_at=at)


def _no_internal_names(page: Any) -> None:
    text = page.inner_text("main")
    assert not INTERNAL.search(text), INTERNAL.search(text)


def test_operators_hour(browser_page: Any, demo_fleet: FleetShape) -> None:
    meter = (Meter.objects.select_related("site").filter(site__timezone="Europe/Vienna")
             .order_by("code").first())
    assert meter is not None and meter.site is not None
    now = timezone.now().replace(microsecond=0)
    _poll_like(meter, now - timedelta(minutes=3), 1500.0)
    _poll_like(meter, now - timedelta(minutes=2), 0.4)  # energy cleared on site
    meter.refresh_from_db()
    assert meter.status == "data-refused"
    vienna = format_local(meter.last_seen_at, zone_or_utc("Europe/Vienna"))
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "operator")

    # The fleet: last seen in the site's time, zone named; the meter is not Online.
    page.goto(f"/?q={meter.code}")
    row = page.locator("#meter-table tbody tr").first
    assert vienna in row.inner_text() and "Data refused" in row.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST)", vienna)
    # ... and in UTC once the reader asks for it.
    with page.expect_navigation():
        page.select_option("select[name=mode]", "utc")
    utc_text = format_local(meter.last_seen_at, UTC)
    assert utc_text.endswith(" UTC") and utc_text in page.inner_text("#meter-table")
    with page.expect_navigation():
        page.select_option("select[name=mode]", "site")

    # The meter page says why its data is refused, in words; the operator accepts the reset.
    page.goto(f"/meters/{meter.pk}/")
    problems = page.inner_text("#meter-problems")
    assert "Readings refused" in problems and "Import active energy" in problems
    assert "Energy counter went backwards" in problems and vienna[-3:].strip() in problems
    _no_internal_names(page)
    page.fill("#data-refused input[name=reason]", "energy cleared by the electrician")
    with page.expect_navigation():
        page.click("#data-refused button[type=submit]")
    assert "1 refused reading stored" in page.inner_text(".messages")
    assert page.locator("#meter-problems #data-refused").count() == 0
    assert "Online" in page.inner_text("h1")
    assert "energy cleared by the electrician" in page.inner_text("#baselines")
    baseline = CounterBaseline.objects.get(meter=meter)
    assert baseline.accepted_by is not None and baseline.accepted_by.username == "operator"

    # Recording again: the next poll is stored, and the live panel shows it with units.
    _poll_like(meter, now - timedelta(minutes=1), 0.9, volts=221.04)
    assert Reading.objects.filter(meter=meter).count() == 3
    page.reload()
    page.wait_for_selector("#live table.live")
    live = page.inner_text("#live")
    assert "221.0 V" in live and "0.900 kWh" in live and "times in Europe/Vienna" in live
    _no_internal_names(page)

    # The history chart: a time axis in the site's zone, units on the axes, human legend.
    page.goto(f"/telemetry/meters/{meter.pk}/history/?quantity=voltage_a"
              "&quantity=import_active_energy")
    page.wait_for_function("() => window.Chart && Chart.getChart('history-chart')")
    chart = page.evaluate("""() => { const c = Chart.getChart('history-chart');
        return {x: c.scales.x.type, zone: c.options.scales.x.adapters.date.zone,
                units: Object.keys(c.scales).filter(k => k !== 'x')
                    .map(k => c.options.scales[k].title.text).sort(),
                legend: c.data.datasets.map(d => d.label)}; }""")
    assert chart == {"x": "time", "zone": "Europe/Vienna", "units": ["V", "kWh"],
                     "legend": ["Voltage A (V)", "Import active energy (kWh)"]}

    # Alarms and dead letters: human names, local times.
    page.goto(f"/alarms/?meter={meter.code}")
    text = page.inner_text("#alarm-table")
    assert "Energy counter went backwards" in text and "by operator" in text
    assert re.search(r"\d\d:\d\d:\d\d (CET|CEST)", text)
    _no_internal_names(page)
    page.goto("/telemetry/dead-letters/")
    assert "Energy counter went backwards" in page.inner_text(".counts")
    assert "counter-backwards" not in page.inner_text(".counts")
    assert errors == []


def test_my_time_zone_is_the_browsers(chromium: Any, live_server: Any,
                                      demo_fleet: FleetShape) -> None:
    meter = Meter.objects.filter(site__timezone="Europe/Vienna").order_by("code").first()
    assert meter is not None
    seen = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
    Meter.objects.filter(pk=meter.pk).update(last_seen_at=seen, status="online")
    context = chromium.new_context(base_url=live_server.url, timezone_id="America/Chicago")
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        log_in(page, "operator")
        page.goto(f"/?q={meter.code}")
        assert "2026-01-15 13:00:05 CET" in page.inner_text("#meter-table")
        with page.expect_navigation():
            page.select_option("select[name=mode]", "mine")
        assert "2026-01-15 06:00:05 CST" in page.inner_text("#meter-table")
        assert "My time zone (America/Chicago)" in page.inner_text("select[name=mode]")
    finally:
        context.close()
