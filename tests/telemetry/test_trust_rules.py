"""The counter-jump bound of meters/telemetry/trust.py, at its edges (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from meters.telemetry.pipeline import Candidate
from meters.telemetry.trust import bounded_extra, conflicts, implausible_jumps, max_power_kw

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
LATEST = {"import_active_energy": {"value": 1000.0, "time": T0.isoformat()}}


def reading(kwh: float, after: timedelta) -> Candidate:
    return Candidate(meter=SimpleNamespace(pk=1), source="MQTT_ENY_NOW", time=T0 + after,
                     values={"import_active_energy": kwh}, meter_clock=True)


def test_bound_is_what_the_meter_could_deliver_with_its_ratios() -> None:
    # 3 x 220 V x 800 A = 528 kW rated, x 1.44 continuous overload, x margin 2.
    assert max_power_kw(pt_ratio=1, ct_ratio=1, margin=2) == pytest.approx(1520.64)
    # A 5 A meter on a 2000:5 CT (ratio 400) meters 2000 A primary.
    assert max_power_kw(pt_ratio=1, ct_ratio=400, margin=1) == pytest.approx(1900.8)
    assert max_power_kw(pt_ratio=100, ct_ratio=1, margin=1) == pytest.approx(76032)


def test_a_rise_within_the_bound_passes_and_one_beyond_it_is_held() -> None:
    bound = max_power_kw(pt_ratio=1, ct_ratio=1, margin=2)
    hour = timedelta(hours=1)
    assert implausible_jumps(reading(1000 + bound, hour), LATEST, bound) == {}
    held = implausible_jumps(reading(1000 + bound + 2, hour), LATEST, bound)
    assert set(held) == {"import_active_energy"}
    assert implausible_jumps(reading(1e12, timedelta(minutes=1)), LATEST, bound)
    # An older reading (a backlog flush) is not judged against a newer baseline.
    assert implausible_jumps(reading(1e12, -hour), LATEST, bound) == {}


def test_conflicts_need_a_differing_value_not_a_missing_tag() -> None:
    assert conflicts({"a": 1.0, "b": 2.0}, {"a": 1.0}) == {}
    assert conflicts({"a": 1.0}, {"a": 1.0, "b": 5.0}) == {}
    assert conflicts({"a": 1.0}, {"a": 1.5}) == {"a": (1.0, 1.5)}


def test_unknown_tags_are_bounded_in_number_and_name() -> None:
    tags = {"ok": 1.0, "x" * 33: 2.0, "bad\x00name": 3.0, **{f"t{n}": n for n in range(10)}}
    kept, dropped = bounded_extra(tags, limit=5)
    assert list(kept) == ["ok", "t0", "t1", "t2", "t3"] and dropped == len(tags) - 5
