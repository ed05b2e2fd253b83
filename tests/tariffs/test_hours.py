"""Hours per rate: the Guangdong plan's published hours, and summer-time days in Vienna."""

from __future__ import annotations

import zoneinfo
from datetime import date
from decimal import Decimal
from typing import Any

from tariffs.document import parse_plan
from tariffs.schedule import day_segments, hours_per_rate, month_bounds, rates_by_hour

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")


def hours(doc: dict[str, Any], year: int, month: int, zone: Any = SHANGHAI) -> dict[int, int]:
    program = parse_plan(doc).document.program()  # type: ignore[union-attr]
    return {r: int(h) for r, h in hours_per_rate(program, *month_bounds(year, month), zone).items()
            if h}


def test_july_has_three_sharp_hours_a_day(guangdong: dict[str, Any]) -> None:
    # Sharp 11-12 and 15-17; peak 10-11, 14-15, 17-19; flat 8-10, 12-14, 19-24; valley 0-8.
    assert hours(guangdong, 2026, 7) == {1: 3 * 31, 2: 4 * 31, 3: 9 * 31, 4: 8 * 31}


def test_april_has_no_sharp_hours(guangdong: dict[str, Any]) -> None:
    # Peak 10-12 and 14-19 (7 h), flat 8-10, 12-14, 19-24 (9 h), valley 0-8 (8 h).
    assert hours(guangdong, 2026, 4) == {2: 7 * 30, 3: 9 * 30, 4: 8 * 30}


def test_september_is_summer_and_october_is_not(guangdong: dict[str, Any]) -> None:
    assert hours(guangdong, 2026, 9)[1] == 90
    assert 1 not in hours(guangdong, 2026, 10)


def test_summer_time_days_have_23_and_25_hours(guangdong: dict[str, Any]) -> None:
    guangdong["timezone"] = "Europe/Vienna"
    march = hours(guangdong, 2026, 3, VIENNA)
    assert sum(march.values()) == 31 * 24 - 1
    assert march[4] == 31 * 8 - 1  # 02:00-03:00 on 29 March is skipped, in the valley
    october = hours(guangdong, 2026, 10, VIENNA)
    assert sum(october.values()) == 31 * 24 + 1
    program = parse_plan(guangdong).document.program()  # type: ignore[union-attr]
    assert len(rates_by_hour(program, date(2026, 3, 29), VIENNA)) == 23
    assert len(rates_by_hour(program, date(2026, 10, 25), VIENNA)) == 25


def test_a_switch_over_mid_month_changes_the_hours(guangdong: dict[str, Any]) -> None:
    # The standby set is flat all day; it takes over on 16 April at 00:00.
    guangdong["sets"][1] = {"zones": [{"start": "01-01", "day_table": 1}],
                            "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}
    guangdong["switch_zones_at"] = guangdong["switch_day_tables_at"] = "2026-04-16T00:00"
    assert hours(guangdong, 2026, 4) == {2: 7 * 15, 3: 9 * 15 + 24 * 15, 4: 8 * 15}


def test_periods_at_half_hours_count_exactly(guangdong: dict[str, Any]) -> None:
    guangdong["sets"][0]["day_tables"]["1"][1]["start"] = "08:30"
    april = parse_plan(guangdong).document.program()  # type: ignore[union-attr]
    counted = hours_per_rate(april, date(2026, 4, 1), date(2026, 4, 1), SHANGHAI)
    assert counted[4] == Decimal("8.50") and counted[3] == Decimal("8.50")


def test_a_day_table_draws_as_runs_that_wrap_past_midnight() -> None:
    from kpm37.tou import DaySlot

    runs = day_segments([DaySlot(8, 0, 3), DaySlot(22, 0, 4)])
    assert [(r.start, r.end, r.rate) for r in runs] == [(0, 480, 4), (480, 1320, 3),
                                                        (1320, 1440, 4)]
