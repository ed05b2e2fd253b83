"""The trust checks ``readings_store`` runs on each candidate, as refusals with their alarms.

Each check returns None (fine) or a :class:`Refusal`: the dead-letter kind, a reason naming the
quantity and the numbers, and the alarm outcome to apply. The rules themselves are in ``trust``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meters.alarms.choices import AlarmKind
from meters.alarms.rules import Condition, Outcome
from meters.names import label, reading_text, shorten
from meters.telemetry import conf
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.pipeline import Candidate, clock_condition
from meters.telemetry.trust import (
    conflicts,
    implausible_jumps,
    max_power_kw,
    out_of_range,
    time_out_of_range,
)

SHOWN = 20  # quantities named in a reason or an alarm's details


@dataclass(frozen=True)
class Refusal:
    """Why a candidate does not become a reading, and the alarm that says so."""

    kind: str
    reason: str
    outcome: Outcome | None = None


def check_candidate(c: Candidate, latest: dict[str, dict[str, Any]],
                    received_at: datetime) -> Refusal | None:
    """Values out of range, a meter time in the future or an implausible counter jump."""
    return _out_of_range(c) or _bad_time(c, received_at) or _jump(c, latest)


def check_duplicate(c: Candidate, stored: dict[str, Any]) -> Refusal | None:
    """A repeat of a stored (meter, source, time) whose values differ: None if identical."""
    differ = conflicts(stored, {**c.extra, **c.values})
    if not differ:
        return None
    shown = dict(sorted(differ.items())[:SHOWN])
    text = ", ".join(f"{label(n)} stored {reading_text(n, old)}, now {reading_text(n, new)}"
                     for n, (old, new) in shown.items())
    more = f" and {len(differ) - len(shown)} more" if len(differ) > len(shown) else ""
    reason = (f"conflicting duplicate of the {c.source} reading at {c.time.isoformat()}: "
              f"{text}{more}; the stored reading is kept")
    details = {"source": c.source, "time": c.time.isoformat(),
               "values": {n: {"stored": old, "new": new} for n, (old, new) in shown.items()}}
    return Refusal(DeadLetterKind.DUPLICATE_CONFLICT, reason, {
        AlarmKind.DUPLICATE_CONFLICT: Condition(AlarmKind.DUPLICATE_CONFLICT, shorten(reason, 300),
                                                details)})


def _out_of_range(c: Candidate) -> Refusal | None:
    bad = out_of_range(c)
    if not bad:
        return None
    return Refusal(DeadLetterKind.MALFORMED,
                   f"values not finite or out of range: {', '.join(sorted(bad)[:SHOWN])}")


def _bad_time(c: Candidate, received_at: datetime) -> Refusal | None:
    tolerance = conf.get("TELEMETRY_FUTURE_TOLERANCE_S")
    if not time_out_of_range(c, received_at, tolerance):
        return None
    ahead = (c.time - received_at).total_seconds()
    if ahead > 0:
        why = f"{ahead:.0f} s ahead of the time it was received (tolerance {tolerance} s)"
    else:
        why = "before 2000, earlier than the meter's clock can count"
    reason = f"meter time {c.time.isoformat()} is {why}: not stored as a reading"
    clock = clock_condition(c, received_at, conf.get("TELEMETRY_CLOCK_TOLERANCE_S"))
    return Refusal(DeadLetterKind.BAD_TIME, reason,
                   {AlarmKind.CLOCK_OFF: clock} if clock else None)


def _jump(c: Candidate, latest: dict[str, dict[str, Any]]) -> Refusal | None:
    max_kw = max_power_kw(pt_ratio=float(c.meter.pt_ratio), ct_ratio=float(c.meter.ct_ratio),
                          margin=conf.get("TELEMETRY_COUNTER_JUMP_MARGIN"))
    jumps = implausible_jumps(c, latest, max_kw)
    if not jumps:
        return None
    text = ", ".join(f"{label(n)} {reading_text(n, was)} -> {reading_text(n, now)} "
                     f"(at most {reading_text(n, most)})"
                     for n, (was, now, most) in sorted(jumps.items())[:SHOWN])
    reason = (f"implausible energy counter jump: {text}; held as suspect, the last accepted "
              "value stays the baseline")
    details = {"max_power_kw": round(max_kw, 3),
               "counters": {n: {"was": was, "now": now, "most": round(most, 3)}
                            for n, (was, now, most) in sorted(jumps.items())[:SHOWN]}}
    return Refusal(DeadLetterKind.COUNTER_JUMP, reason, {
        AlarmKind.COUNTER_JUMP: Condition(AlarmKind.COUNTER_JUMP, shorten(reason, 300), details)})
