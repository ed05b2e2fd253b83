"""An operator opens a meter's history: the chart is drawn from the stored readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
