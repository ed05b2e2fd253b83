"""An operator opens a meter's history: the chart is drawn from the stored readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from meters.models import Meter
from meters.telemetry.models import Reading
from provisioning.demo.seed import FleetShape
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_history_chart_plots_every_stored_reading(browser_page: Any,
                                                  demo_fleet: FleetShape) -> None:
    meter = Meter.objects.order_by("code").first()
    assert meter is not None
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Reading.objects.bulk_create([
        Reading(meter=meter, source="modbus", time=start + timedelta(minutes=n),
                values={"voltage_a": 230.0 + n, "voltage_b": 231.0, "voltage_c": 229.0},
                received_at=start + timedelta(minutes=n))
        for n in range(5)])
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "operator")
    page.goto(f"/telemetry/meters/{meter.pk}/history/?quantity=voltage_a")
    page.wait_for_function("() => window.Chart && Chart.getChart('history-chart')")
    plotted = page.evaluate(
        "() => Chart.getChart('history-chart').data.datasets.map(d => d.data.map(p => p.y))")
    assert plotted == [[230.0, 231.0, 232.0, 233.0, 234.0]]
    assert errors == []


def test_history_chart_has_a_time_axis_in_the_site_zone_units_and_gaps(
        browser_page: Any, demo_fleet: FleetShape) -> None:
    meter = Meter.objects.select_related("site").exclude(site=None).order_by("code").first()
    assert meter is not None and meter.site is not None
    Meter.objects.filter(pk=meter.pk).update(poll_interval_s=60)
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    minutes = [0, 1, 2, 10, 11]  # a seven-minute outage between 12:02 and 12:10
    Reading.objects.bulk_create([
        Reading(meter=meter, source="modbus", time=start + timedelta(minutes=n),
                values={"voltage_a": 220.52664184570312, "current_a": 5.0},
                received_at=start + timedelta(minutes=n)) for n in minutes])
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "operator")
    page.goto(f"/telemetry/meters/{meter.pk}/history/?quantity=voltage_a&quantity=current_a")
    page.wait_for_function("() => window.Chart && Chart.getChart('history-chart')")
    chart = page.evaluate("""() => { const c = Chart.getChart('history-chart');
        return {type: c.scales.x.type, zone: c.options.scales.x.adapters.date.zone,
                title: c.options.scales.x.title.text,
                units: Object.keys(c.scales).filter(k => k !== 'x')
                    .map(k => c.options.scales[k].title.text),
                legend: c.data.datasets.map(d => d.label),
                ys: c.data.datasets[0].data.map(p => p.y),
                first: c.scales.x._adapter.format(
                    Date.parse(c.data.datasets[0].data[0].x), 'yyyy-MM-dd HH:mm') }; }""")
    assert chart["type"] == "time" and chart["zone"] == meter.site.timezone
    assert chart["title"] == f"Time ({meter.site.timezone})"
    local = start.astimezone(ZoneInfo(meter.site.timezone))
    assert chart["first"] == f"{local:%Y-%m-%d %H:%M}" and local.hour != start.hour
    assert sorted(chart["units"]) == ["A", "V"]
    assert chart["legend"] == ["Voltage A (V)", "Current A (A)"]
    assert chart["ys"] == [220.5, 220.5, 220.5, None, 220.5, 220.5]  # the outage is a hole
    assert "optgroup" in page.content() and "import_active_energy" not in page.inner_text("body")
    assert errors == []


def test_energy_per_day_per_rate_as_bars(browser_page: Any, demo_fleet: FleetShape) -> None:
    meter = Meter.objects.order_by("code").first()
    assert meter is not None
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    Reading.objects.bulk_create([
        Reading(meter=meter, source="modbus", time=start + timedelta(days=d, hours=h),
                values={"import_active_energy_r2": 100.0 + 10 * d + h,
                        "import_active_energy_r4": 50.0 + 2 * d},
                received_at=start) for d in range(3) for h in (0, 4)])
    page = browser_page
    log_in(page, "operator")
    page.goto(f"/telemetry/meters/{meter.pk}/history/?chart=energy&bucket=day")
    page.wait_for_function("() => window.Chart && Chart.getChart('history-chart')")
    bars = page.evaluate("""() => { const c = Chart.getChart('history-chart');
        return {type: c.config.type, x: c.scales.x.type, y: c.options.scales.y.title.text,
                sets: c.data.datasets.map(d => [d.label, d.data])}; }""")
    assert bars["type"] == "bar" and bars["x"] == "time" and bars["y"] == "kWh"
    assert bars["sets"] == [["Peak", [4.0, 10.0, 10.0]], ["Valley", [0.0, 2.0, 2.0]]]
