"""A billing clerk's colleague imports a large CSV through the page: progress, preview, confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kpm37.metercode import make_meter_code
from meters.models import Meter
from provisioning.demo.seed import FleetShape
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

HEADER = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio\n"
ROWS = 2000


def write_csv(path: Path, *, bad_line: int | None = None) -> Path:
    lines = [HEADER]
    for n in range(1, ROWS + 1):
        code = make_meter_code(communication="2", year=24, month=3, serial=n)
        if n == bad_line:
            code = "30710251X0001"  # model character X: the meter itself would show "Err"
        lines.append(f"{code},kpm37,mqtt,,,Import Park,Tenant {n % 7},imported,1.0,1.0\n")
    path.write_text("".join(lines))
    return path


def test_a_large_file_is_previewed_then_imported_with_progress(
        browser_page: Any, demo_fleet: FleetShape, tmp_path: Path) -> None:
    page = browser_page
    before = Meter.objects.count()
    log_in(page, "admin")
    page.goto("/import/")
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "fleet.csv")))
    page.click("text=Check file")
    page.wait_for_selector("#import-preview")
    assert f"{ROWS} rows" in page.locator("#import-preview").inner_text()
    assert Meter.objects.count() == before  # a preview saves nothing
    # Record, from inside the page, whether the progress bar is showing while the request runs.
    page.evaluate("""() => document.addEventListener("htmx:beforeSend", (evt) => {
        const bar = evt.target.closest("form").querySelector(".progress");
        window.progressShownWhileSaving = !!bar && !bar.hidden;
    })""")
    page.click(f"text=Import {ROWS} meters")
    page.wait_for_selector("#import-done")
    assert page.evaluate("window.progressShownWhileSaving") is True
    assert page.url.endswith("/import/")  # swapped in place by htmx, no full page load
    assert f"{ROWS} meters created" in page.locator("#import-done").inner_text()
    assert Meter.objects.count() == before + ROWS


def test_a_file_with_one_bad_code_lists_it_and_saves_nothing(
        browser_page: Any, demo_fleet: FleetShape, tmp_path: Path) -> None:
    page = browser_page
    before = Meter.objects.count()
    log_in(page, "admin")
    page.goto("/import/")
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "bad.csv", bad_line=17)))
    page.click("text=Check file")
    problems = page.wait_for_selector("#import-problems").inner_text()
    assert "line 18" in problems and "code" in problems  # header is line 1
    assert page.locator("text=Import 2000 meters").count() == 0
    assert Meter.objects.count() == before
