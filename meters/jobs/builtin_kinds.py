"""The built-in kinds that read and write values: read, write, set_clock, read_billing.

Each works over Modbus and over MQTT alike: ``ctx.device`` speaks profile names and the
transport underneath turns them into Modbus frames or V1.9 SYS_READ / SYS_CFG commands. Only
the clock (SETTIME) and billing history (RECALL) use their own V1.9 commands over MQTT.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from kpm37 import codec
from kpm37.device import same_value
from kpm37.errors import ValueOutOfRange
from kpm37.profile import Profile, Register
from meters.jobs.choices import Priority
from meters.jobs.kinds import JobContext, JobFailed, JobKind, PayloadInvalid, register_kind

CLOCK = "clock"
HISTORY_MONTHS = 13  # this month and the 12 before it (KPM33B map; assumed for the KPM37)


def jsonable(value: Any) -> Any:
    """A decoded register value as JSON (meter clocks as naive local ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _names(payload: dict[str, Any], key: str) -> list[str]:
    names = payload.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PayloadInvalid(key, "must be a list of value names")
    return names


def _register(profile: Profile, name: str, field: str) -> Register:
    if not profile.has(name):
        raise PayloadInvalid(field, f"profile {profile.name} has no value named {name!r}")
    reg = profile.register(name)
    if reg.name == profile.password_register:
        raise PayloadInvalid(field, "the meter's password is neither read nor shown")
    return reg


def parse_value(reg: Register, value: Any) -> Any:
    """A JSON value as the codec wants it (clock text becomes a naive local datetime)."""
    if reg.type == "bcd_clock" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueOutOfRange(reg.name, f"{value!r} is not a date and time "
                                  "(YYYY-MM-DDTHH:MM:SS, meter local time)") from None
    if reg.type == "bit" and isinstance(value, int) and not isinstance(value, bool):
        return bool(value)
    return value


def with_password(profile: Profile, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus the meter password first, when one of them needs it."""
    password = profile.password_register
    protected = any(profile.is_protected(profile.register(n)) for n in values)
    if not password or not protected or password in values:
        return dict(values)
    return {password: settings.METER_PASSWORD, **values}


async def write_and_verify(ctx: JobContext, values: dict[str, Any]) -> dict[str, Any]:
    """Write ``values`` (with the password when needed), read them back, and fail naming the
    first value that differs; returns what was read back."""
    await ctx.device.write(with_password(ctx.profile, values), verify=False)
    got = await ctx.device.read(list(values))
    for name, wanted in values.items():
        if not same_value(wanted, got.get(name)):
            raise JobFailed(f"{name}: read-back differs: wrote {jsonable(wanted)!r}, "
                            f"read {jsonable(got.get(name))!r}", value=name)
    return got


class ReadValues(JobKind):
    name = "read"
    label = "Read values"
    priority = Priority.OPERATOR_WRITE

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        names = _names(payload, "names") if payload.get("names") else [
            r.name for r in profile.parameters() if r.readable]
        for name in names:
            if not _register(profile, name, f"names.{name}").readable:
                raise PayloadInvalid(f"names.{name}", "is write-only and cannot be read")
        return {"names": list(dict.fromkeys(names))}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        values = await ctx.device.read(ctx.payload["names"])
        return {"values": {n: jsonable(v) for n, v in values.items()}}

    def describe(self, payload: dict[str, Any]) -> str:
        names = payload.get("names", [])
        return f"read {', '.join(names[:6])}{' …' if len(names) > 6 else ''}"


class WriteValues(JobKind):
    name = "write"
    label = "Write values"
    priority = Priority.OPERATOR_WRITE

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        values = payload.get("values")
        if not isinstance(values, dict) or not values:
            raise PayloadInvalid("values", "must be an object of value name -> value")
        for name, value in values.items():
            reg = _register(profile, name, f"values.{name}")
            if reg.access != "rw" or reg.table != "holding":
                raise PayloadInvalid(f"values.{name}", "is not a setting that can be written "
                                     "and read back (relays and commands have their own kinds)")
            try:
                codec.validate(reg, parse_value(reg, value))
            except ValueOutOfRange as exc:
                raise PayloadInvalid(f"values.{name}", exc.reason) from None
        return {"values": dict(values)}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        values = {n: parse_value(ctx.profile.register(n), v)
                  for n, v in ctx.payload["values"].items()}
        got = await write_and_verify(ctx, values)
        return {"values": {n: jsonable(v) for n, v in got.items()}}

    def describe(self, payload: dict[str, Any]) -> str:
        return "write " + ", ".join(f"{n}={v}" for n, v in payload.get("values", {}).items())


class SetClock(JobKind):
    """Set the meter's clock to its site's local time now (or to ``time``), then read it back."""

    name = "set_clock"
    label = "Set clock"
    priority = Priority.OPERATOR_WRITE
    tolerance_s = 5

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        _register(profile, CLOCK, "clock")
        text = payload.get("time")
        if text in (None, ""):
            return {}
        try:
            codec.validate(profile.register(CLOCK), parse_value(profile.register(CLOCK), text))
        except ValueOutOfRange as exc:
            raise PayloadInvalid("time", exc.reason) from None
        return {"time": text}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        wanted = (datetime.fromisoformat(ctx.payload["time"]) if ctx.payload.get("time")
                  else datetime.now(ZoneInfo(ctx.meter.timezone)).replace(tzinfo=None,
                                                                           microsecond=0))
        if ctx.is_mqtt:
            await ctx.commander.set_time(ctx.meter.code, wanted)
        else:
            await ctx.device.write(with_password(ctx.profile, {CLOCK: wanted}), verify=False)
        got = (await ctx.device.read([CLOCK]))[CLOCK]
        if not isinstance(got, datetime) or abs(got - wanted) > timedelta(seconds=30):
            raise JobFailed(f"clock: read-back differs: set {wanted.isoformat()}, read "
                            f"{jsonable(got)!r}", value=CLOCK)
        return {"values": {CLOCK: got.isoformat()}, "set_to": wanted.isoformat()}


class ReadBilling(JobKind):
    """The frozen monthly history: ``months`` back from this one (0 = this month)."""

    name = "read_billing"
    label = "Read billing history"
    priority = Priority.BILLING_READ
    reports_values = False

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        months = payload.get("months", list(range(HISTORY_MONTHS)))
        if (not isinstance(months, list) or not months
                or not all(isinstance(m, int) and not isinstance(m, bool)
                           and 0 <= m < HISTORY_MONTHS for m in months)):
            raise PayloadInvalid("months", f"must be a list of months back, 0-"
                                 f"{HISTORY_MONTHS - 1}")
        return {"months": sorted(set(months))}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        clock = (await ctx.device.read([CLOCK]))[CLOCK] if ctx.profile.has(CLOCK) else None
        if ctx.is_mqtt:
            months = await self._recall(ctx, clock)
        else:
            months = await self._history(ctx)
        return {"months": months, "values": {CLOCK: jsonable(clock)}}

    async def _history(self, ctx: JobContext) -> dict[str, Any]:
        wanted = set(ctx.payload["months"])
        names = [r.name for r in ctx.profile.by_group("history")
                 if int(r.name.rsplit("_m", 1)[1]) in wanted]
        values = await ctx.device.read(names)
        out: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            # KPM33B V3.4 §4.1: the history registers hold each month's consumption
            quantity, month = name.removeprefix("consumed_").rsplit("_m", 1)
            out.setdefault(f"m{month}", {})[quantity] = value
        return out

    async def _recall(self, ctx: JobContext, clock: Any) -> dict[str, Any]:
        now = clock if isinstance(clock, datetime) else datetime.now(ZoneInfo(ctx.meter.timezone))
        out = {}
        for back in ctx.payload["months"]:
            index = now.year * 12 + now.month - 1 - back
            year, month = divmod(index, 12)
            values = await ctx.commander.recall_month(ctx.meter.code, year, month + 1)
            out[f"{year:04d}-{month + 1:02d}"] = values
        return out


for _kind in (ReadValues(), WriteValues(), SetClock(), ReadBilling()):
    register_kind(_kind)
