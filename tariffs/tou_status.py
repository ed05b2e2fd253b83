"""A meter's time-of-use state against its plan, for the meter page, the fleet page and the
API: each of the plan's sets in sync, drifted, pending activation (when), failed (why) or
unknown (never read back), from the values the meter's jobs read back."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kpm37.profile import load_profile
from meters.jobs.models import MeterJob
from meters.jobs.selectors import reported_values
from meters.models import Meter
from tariffs.programming import SetState, compare_sets
from tariffs.selectors import PROGRAM_KIND, meter_desired_plan

MAX_COUNTED = 2000  # meters counted live on the fleet page; beyond, the count says so

def meter_tou_status(meter: Meter) -> dict[str, Any]:
    """The meter's TOU state against its plan: the plan and why, each set's state (in sync,
    drifted, pending activation with when, failed with why, unknown), the latest programming."""
    plan, why = meter_desired_plan(meter)
    last = (MeterJob.objects.filter(meter=meter, kind=PROGRAM_KIND)
            .order_by("-created_at").first())
    status: dict[str, Any] = {"plan": plan, "why": why, "job": last, "sets": []}
    if plan is None:
        return status
    version = plan.latest
    document = version.parsed()
    profile = load_profile(meter.profile)
    if not profile.has("tou_zone_a_01_month"):
        status["why"] = f"profile {meter.profile} has no TOU tables"
        return status
    local_now = datetime.now(ZoneInfo(meter.site.timezone if meter.site else "UTC")
                             ).replace(tzinfo=None)
    wanted = document.sets
    if document.switch_day_tables_at and local_now >= document.switch_day_tables_at:
        wanted = (wanted[1], wanted[0])
    values = _tou_values(profile, reported_values(meter_id=meter.pk))
    states = compare_sets(profile, values, local_now, wanted)
    if last is not None and last.state in ("failed", "expired"):
        reason = last.failure or last.last_error or last.state
        states = [s if s.state == "in-sync" else SetState(s.which, "failed", why=reason)
                  for s in states]
    status["sets"] = states
    status["version"] = version
    return status


def _tou_values(profile: Any, reported: Any) -> dict[str, Any] | None:
    """Read-back TOU values as the codec gives them (clock text back to datetimes)."""
    if not reported:
        return None
    values: dict[str, Any] = {}
    for name, entry in reported.items():
        if not name.startswith("tou_"):
            continue
        value = entry.get("value") if isinstance(entry, dict) else entry
        if isinstance(value, str) and profile.has(name) and \
                profile.register(name).type == "bcd_clock":
            value = datetime.fromisoformat(value)
        values[name] = value
    return values or None


def fleet_tou_counts(meters: Any) -> dict[str, Any]:
    """How many of ``meters`` (those with a plan) have each set in each state."""
    counts: Counter[str] = Counter()
    with_plan = 0
    for meter in meters.select_related("site")[:MAX_COUNTED]:
        status = meter_tou_status(meter)
        if status["plan"] is None:
            continue
        with_plan += 1
        worst = _worst([s.state for s in status["sets"]] or ["unknown"])
        counts[worst] += 1
    return {"meters": with_plan, "counts": dict(counts),
            "capped": meters.count() > MAX_COUNTED}


_ORDER = ("failed", "drifted", "unknown", "pending", "in-sync")


def _worst(states: list[str]) -> str:
    return min(states, key=_ORDER.index)
