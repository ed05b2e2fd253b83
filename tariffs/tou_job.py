"""The ``program_tou`` meter job: a tariff plan into one meter, safely, on its bus.

Run by the owner of the meter's bus (or its MQTT link) like every job (docs/jobs.md):

1. read the clock and the TOU indicator; a clock off by more than the tolerance is set first
   (a wrong clock bills to the wrong rate);
2. unless the set that bills now already holds the plan's active set: write that set into the
   standby physical set, read it back, and only when it matches write the switch-over (now);
3. write the plan's standby set into the set that no longer bills, read it back, then write
   the plan's own switch-over times (none: the active set stays);
4. read every TOU value back, so the meter's reported state shows what it holds.

A meter that stops answering in step 2 or 3 has had nothing but a standby table changed: the
set that bills is the old one until a verified switch-over is written. The job is repeat-safe:
a retry reads the meter again and carries on from what it finds.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kpm37.profile import Profile
from meters.jobs.builtin_kinds import SetClock, jsonable, write_and_verify
from meters.jobs.choices import Priority
from meters.jobs.kinds import JobContext, JobFailed, JobKind, PayloadInvalid
from tariffs.document import parse_plan
from tariffs.programming import (
    SWITCH_NAMES,
    activation_values,
    other,
    running_set,
    same_set,
    set_names,
    set_values,
)

CLOCK = "clock"
DEFAULT_TOLERANCE_S = 60


class ProgramTou(JobKind):
    name = "program_tou"
    label = "Program TOU plan"
    priority = Priority.ROLLOUT_WRITE
    default_ttl_s = 60 * 60

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        if not profile.has("tou_zone_a_01_month"):
            raise PayloadInvalid("profile", f"profile {profile.name} has no TOU tables")
        result = parse_plan(payload.get("plan"))
        if result.document is None:
            place, reason = result.errors[0]
            raise PayloadInvalid(f"plan.{place}", reason)
        tolerance = payload.get("clock_tolerance_s", DEFAULT_TOLERANCE_S)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) \
                or not 1 <= tolerance <= 3600:
            raise PayloadInvalid("clock_tolerance_s", "whole seconds 1-3600")
        version, version_id = payload.get("version"), payload.get("version_id")
        if not isinstance(version, int | None) or not isinstance(version_id, int | None):
            raise PayloadInvalid("version", "a plan version number")
        return {"plan": result.document.to_json(), "version": version,
                "version_id": version_id, "clock_tolerance_s": tolerance}

    def describe(self, payload: dict[str, Any]) -> str:
        plan = payload.get("plan", {})
        return f"{self.label}: {plan.get('name', '?')} v{payload.get('version', '?')}"

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        document = parse_plan(ctx.payload["plan"]).document
        if document is None:
            raise JobFailed("the stored plan no longer parses")
        result: dict[str, Any] = {"steps": []}
        clock = await self._checked_clock(ctx, result)
        state = await ctx.device.read(list(SWITCH_NAMES))
        running = running_set(state, clock)
        holds_active = await self._holds(ctx, running, document.sets[0])
        if not holds_active:
            standby = other(running)
            await write_and_verify(ctx, set_values(ctx.profile, document.sets[0], standby))
            result["steps"].append(f"wrote the plan's active set into set {standby}")
            await write_and_verify(ctx, activation_values(running, clock, clock))
            result["steps"].append(f"switched to set {standby}")
            running = standby
        await write_and_verify(ctx, set_values(ctx.profile, document.sets[1], other(running)))
        result["steps"].append(f"wrote the plan's standby set into set {other(running)}")
        await write_and_verify(ctx, activation_values(running, document.switch_day_tables_at,
                                                      document.switch_zones_at))
        result["steps"].append("switch-over: " + (
            f"day tables {_when(document.switch_day_tables_at)}, "
            f"zones {_when(document.switch_zones_at)}"))
        names = [CLOCK, *SWITCH_NAMES, *set_names(ctx.profile, "a"), *set_names(ctx.profile, "b")]
        result["values"] = {n: jsonable(v) for n, v in (await ctx.device.read(names)).items()}
        return result

    async def _checked_clock(self, ctx: JobContext, result: dict[str, Any]) -> datetime:
        """The meter's clock, set first when it is off by more than the tolerance."""
        tolerance = timedelta(seconds=ctx.payload.get("clock_tolerance_s", DEFAULT_TOLERANCE_S))
        read = (await ctx.device.read([CLOCK]))[CLOCK]
        expected = datetime.now(ZoneInfo(ctx.meter.timezone)).replace(tzinfo=None)
        if isinstance(read, datetime) and abs(read - expected) <= tolerance:
            return read
        await SetClock().run(dataclasses.replace(ctx, payload={}))
        result["steps"].append(f"clock was {jsonable(read)}, set to the site's local time")
        got = (await ctx.device.read([CLOCK]))[CLOCK]
        if not isinstance(got, datetime):
            raise JobFailed("clock: unreadable after setting it", value=CLOCK)
        return got

    async def _holds(self, ctx: JobContext, physical: Any, tariff: Any) -> bool:
        values = await ctx.device.read(set_names(ctx.profile, physical))
        return same_set(ctx.profile, values, physical, tariff)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"
