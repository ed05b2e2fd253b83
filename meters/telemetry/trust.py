"""How far ingest trusts what a meter says: pure rules, no database.

A meter names itself, dates its own readings and reports its own counters, and any of those can
be wrong (a broken clock, a glitch, a stolen credential). These rules decide what may become a
reading or the latest state; ``store`` applies them and records every refusal as a dead letter.

- **Time.** A reading dated more than TELEMETRY_FUTURE_TOLERANCE_S ahead of the time it was
  received is refused: stored, it would win "latest" until that time came (a reading dated 2099
  froze the live values). So is one dated before 2000: the meter's clock counts two-digit years
  (manual: date "12.05.08"), so year 1 or 1970 is no time it can hold. Readings from the past
  are otherwise normal (a meter flushing its backlog) and keep their own times. Either way a
  clock off by more than TELEMETRY_CLOCK_TOLERANCE_S raises the clock alarm.
- **Counter jumps.** An energy counter can rise at most as fast as the meter can deliver energy:
  3 phases x the highest rated voltage (220 V) x the highest rated current it can be set to
  (800 A, or 5 A x the CT ratio), x the PT ratio, with the manual's continuous overload
  capacity (1.2 x voltage, 1.2 x current) and a safety margin (TELEMETRY_COUNTER_JUMP_MARGIN,
  default 2), plus 1 kWh of slack. A rise beyond that since the last accepted value is held as
  suspect: refused (a dead letter with the payload) and alarmed, and the last accepted value
  stays the baseline, so the genuine counter that follows is taken. The bound uses the
  inventory's PT and CT ratios: a wrong ratio shows as repeated counter-jump alarms.
- **Duplicates.** Same meter, source and time: identical values are a repeat; a value that
  differs from the stored one for the same quantity is a conflict, kept as evidence and alarmed.
- **Unknown tags** are kept per reading, bounded in number and name length; they never enter
  the latest state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kpm37.quantities import ENERGY_COUNTERS
from meters.telemetry.pipeline import Candidate

MAX_RATED_PHASE_VOLTAGE_V = 220.0  # manual, parameter Un: 100 V or 220 V
MAX_RATED_CURRENT_A = 800.0  # manual, parameter In: 1, 5, 100, 400 or 800 A
CT_SECONDARY_A = 5.0  # an external CT's secondary (In = 5 A)
CONTINUOUS_OVERLOAD = 1.2 * 1.2  # manual 2.3: 1.2 x rated voltage and current, continuous
JUMP_SLACK_KWH = 1.0  # counter resolution and float32 rounding of large counters
MAX_VALUE = 1e15  # beyond any quantity; keeps JSON, sums and alarm arithmetic finite
TAG_NAME = re.compile(r"[a-z0-9_]{1,32}")
COMPARE_REL = 1e-9
EARLIEST_METER_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def time_out_of_range(candidate: Candidate, received_at: datetime, future_s: int) -> bool:
    """True if a meter-dated candidate lies more than ``future_s`` ahead of receive time, or
    before any time the meter's clock can hold."""
    return candidate.meter_clock and (
        (candidate.time - received_at).total_seconds() > future_s
        or candidate.time < EARLIEST_METER_TIME)


def out_of_range(candidate: Candidate) -> list[str]:
    """Names whose value is not a finite number within MAX_VALUE (any transport)."""
    return [name for name, value in {**candidate.values, **candidate.extra}.items()
            if not isinstance(value, int | float) or not math.isfinite(value)
            or abs(value) > MAX_VALUE]


def max_power_kw(*, pt_ratio: float, ct_ratio: float, margin: float) -> float:
    """The most power (kW, kvar or kVA) a meter with these ratios could meter continuously."""
    current = max(MAX_RATED_CURRENT_A, CT_SECONDARY_A * ct_ratio)
    rated = 3 * MAX_RATED_PHASE_VOLTAGE_V * max(pt_ratio, 1.0) * current / 1000
    return rated * CONTINUOUS_OVERLOAD * margin


def implausible_jumps(candidate: Candidate, latest: Mapping[str, Mapping[str, Any]],
                      max_kw: float) -> dict[str, tuple[float, float, float]]:
    """Counters that rose more than ``max_kw`` could deliver since the last accepted value
    (a later one only): name -> (was, now, most plausible)."""
    if not candidate.is_live:
        return {}
    found = {}
    for name in ENERGY_COUNTERS:
        if name not in candidate.values or name not in latest:
            continue
        was, now = float(latest[name]["value"]), candidate.values[name]
        since = datetime.fromisoformat(latest[name]["time"])
        if since > candidate.time:
            continue
        hours = (candidate.time - since).total_seconds() / 3600
        most = was + max_kw * hours + JUMP_SLACK_KWH
        if now > most:
            found[name] = (was, now, most)
    return found


def conflicts(stored: Mapping[str, Any], new: Mapping[str, float]) -> dict[str, tuple[Any, float]]:
    """Quantities both hold with different values: name -> (stored, new). A repeat that only
    lacks or adds a tag (real meters omit one now and then) is no conflict."""
    return {name: (stored[name], value) for name, value in new.items()
            if name in stored and not _same(stored[name], value)}


def _same(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=COMPARE_REL, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def bounded_extra(extra: Mapping[str, float], limit: int) -> tuple[dict[str, float], int]:
    """At most ``limit`` unknown tags with short plain names; returns (kept, dropped count)."""
    kept = {}
    for name, value in extra.items():
        if len(kept) < limit and TAG_NAME.fullmatch(name):
            kept[name] = value
    return kept, len(extra) - len(kept)
