"""Programming values: the standby set as registers, the switch-over, and sync states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kpm37.profile import load_profile
from tariffs.document import parse_plan
from tariffs.programming import (
    activation_values,
    compare_sets,
    running_set,
    same_set,
    set_names,
    set_values,
)

KPM37 = load_profile("kpm37")
NOON = datetime(2026, 7, 1, 12, 0)


def test_a_set_becomes_registers_of_one_physical_set_only(guangdong: dict[str, Any]) -> None:
    tariff = parse_plan(guangdong).document.sets[0]  # type: ignore[union-attr]
    values = set_values(KPM37, tariff, "b")
    assert set(values) == set(set_names(KPM37, "b"))
    assert values["tou_day_b_t2_04_rate"] == 1 and values["tou_day_b_t2_04_hour"] == 11
    assert values["tou_zone_b_02_month"] == 7 and values["tou_zone_b_04_month"] == 0
    assert same_set(KPM37, values, "b", tariff)
    assert not same_set(KPM37, values | {"tou_day_b_t2_04_rate": 2}, "b", tariff)


def test_the_running_set_follows_the_day_table_switch_over() -> None:
    values = activation_values("a", datetime(2026, 7, 1, 0, 0), datetime(2026, 7, 1, 0, 0))
    assert running_set(values, NOON) == "b"
    assert running_set(values, datetime(2026, 6, 30, 23, 59)) == "a"
    assert running_set(activation_values("b", None), NOON) == "b"


def test_sync_states(guangdong: dict[str, Any]) -> None:
    sets = parse_plan(guangdong).document.sets  # type: ignore[union-attr]
    flat = parse_plan(guangdong | {"sets": [
        {"zones": [{"start": "01-01", "day_table": 1}],
         "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}] * 2}).document.sets  # type: ignore[union-attr]
    meter = set_values(KPM37, flat[0], "a") | set_values(KPM37, flat[0], "b")
    meter |= activation_values("a", None)
    assert [s.state for s in compare_sets(KPM37, meter, NOON, sets)] == ["drifted", "drifted"]
    meter |= set_values(KPM37, sets[0], "b")
    later = datetime(2026, 7, 2, 0, 0)
    meter |= activation_values("a", later, later)
    states = compare_sets(KPM37, meter, NOON, sets)
    assert (states[0].state, states[0].when) == ("pending", later)
    states = compare_sets(KPM37, meter, datetime(2026, 7, 2, 0, 1), sets)
    assert [s.state for s in states] == ["in-sync", "drifted"]
    meter |= set_values(KPM37, sets[1], "a")
    assert [s.state for s in compare_sets(KPM37, meter, later, sets)] == ["in-sync", "in-sync"]
    assert [s.state for s in compare_sets(KPM37, None, NOON, sets)] == ["unknown", "unknown"]


def test_a_standby_set_waiting_for_its_switch_over_is_pending(guangdong: dict[str, Any]) -> None:
    summer = parse_plan(guangdong).document.sets[0]  # type: ignore[union-attr]
    flat = parse_plan(guangdong | {"rates": {"3": {"price": "1"}}, "sets": [
        {"zones": [{"start": "01-01", "day_table": 1}],
         "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}] * 2}).document.sets[0]  # type: ignore[union-attr]
    switch = datetime(2027, 1, 1, 0, 0)
    meter = (set_values(KPM37, summer, "a") | set_values(KPM37, flat, "b")
             | activation_values("a", switch, switch))
    states = compare_sets(KPM37, meter, NOON, (summer, flat))
    assert [(s.state, s.when) for s in states] == [("in-sync", None), ("pending", switch)]
    meter |= set_values(KPM37, summer, "b")
    assert compare_sets(KPM37, meter, NOON, (summer, flat))[1].state == "drifted"
