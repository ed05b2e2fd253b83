"""What a plan means in time: the rate at each hour of a date, hours per rate over a month or a
year, and the drawings of the editor (24-hour bars, the year calendar).

Counting is in elapsed time in the plan's (or a site's) time zone: a meter bills by its own
local clock, so on a day when that zone changes to or from summer time the day has 23 or 25
hours, and the hour that is skipped or repeated bills to whatever rate the table says for it.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from kpm37.tou import DaySlot, TariffSet, TouProgram

HOUR = Decimal(3600)


@dataclass(frozen=True)
class HourRate:
    """One hour of a local day: when it starts (aware, local) and the rate then."""

    start: datetime
    rate: int


@dataclass(frozen=True)
class Segment:
    """A run of one rate inside a day table, in minutes from midnight."""

    start: int
    end: int
    rate: int

    @property
    def percent_left(self) -> float:
        return self.start / 14.4

    @property
    def percent_width(self) -> float:
        return (self.end - self.start) / 14.4

    @property
    def label(self) -> str:
        start, end = divmod(self.start, 60), divmod(self.end, 60)
        return f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"


def wall_clock(day: date, hour: int = 0) -> datetime:
    """``hour`` o'clock on ``day`` as a meter's clock shows it (naive: meter-local time)."""
    return datetime(day.year, day.month, day.day, hour)  # noqa: DTZ001 - meter local time


def to_utc(local: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant of a local wall-clock time; a time skipped by summer time counts as the
    moment the clock jumped (the first existing minute after it)."""
    aware = local.replace(tzinfo=zone)
    probe = local
    while aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != probe:
        probe += timedelta(minutes=1)  # at most the length of the gap, an hour or two
        aware = probe.replace(tzinfo=zone)
    return aware.astimezone(UTC)


def hours_per_rate(program: TouProgram, first: date, last: date,
                   zone: zoneinfo.ZoneInfo) -> dict[int, Decimal]:
    """Hours billed to each rate from local midnight of ``first`` to local midnight after
    ``last``; every rate 1-5 is present (0 where unused)."""
    hours = {rate: Decimal(0) for rate in range(1, 6)}
    moment = wall_clock(first)
    end = wall_clock(last) + timedelta(days=1)
    instant = to_utc(moment, zone)
    while moment < end:
        upcoming = min(program.next_change(moment), end)
        next_instant = max(to_utc(upcoming, zone), instant)
        seconds = Decimal((next_instant - instant).total_seconds())
        hours[int(program.rate_at(moment))] += seconds / HOUR
        moment, instant = upcoming, next_instant
    return {rate: value.quantize(Decimal("0.01")) for rate, value in hours.items()}


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def rates_by_hour(program: TouProgram, day: date, zone: zoneinfo.ZoneInfo) -> list[HourRate]:
    """The rate at the start of every real hour of local ``day`` (23, 24 or 25 of them)."""
    start = to_utc(wall_clock(day), zone)
    end = to_utc(wall_clock(day) + timedelta(days=1), zone)
    hours = []
    instant = start
    while instant < end:
        local = instant.astimezone(zone)
        hours.append(HourRate(local, int(program.rate_at(local.replace(tzinfo=None)))))
        instant += timedelta(hours=1)
    return hours


def day_segments(slots: list[DaySlot]) -> list[Segment]:
    """A day table as runs over 00:00-24:00 (the last period wraps round to the first)."""
    ordered = sorted(slots, key=lambda s: (s.hour, s.minute))
    if not ordered:
        return []
    starts = [s.hour * 60 + s.minute for s in ordered]
    runs = []
    if starts[0] > 0:
        runs.append(Segment(0, starts[0], ordered[-1].rate))
    for i, slot in enumerate(ordered):
        end = starts[i + 1] if i + 1 < len(ordered) else 1440
        runs.append(Segment(starts[i], end, slot.rate))
    return [run for run in runs if run.end > run.start]


@dataclass(frozen=True)
class CalendarDay:
    """One day of the year calendar: which set's day table applies."""

    day: date
    set_index: int
    table: int


def year_calendar(program: TouProgram, year: int) -> list[list[CalendarDay]]:
    """Twelve months of days, each with the set and day table that apply at its noon."""
    months = []
    for month in range(1, 13):
        first, last = month_bounds(year, month)
        days = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            noon = wall_clock(day, hour=12)
            zone_set, day_set = program.sets(noon)
            days.append(CalendarDay(day, 0 if day_set is program.set_a else 1,
                                    _table_of(zone_set, day)))
        months.append(days)
    return months


def _table_of(tariff: TariffSet, day: date) -> int:
    zones = sorted(tariff.zones, key=lambda z: (z.month, z.day))
    current = [z for z in zones if (z.month, z.day) <= (day.month, day.day)]
    return (current[-1] if current else zones[-1]).day_table if zones else 0
