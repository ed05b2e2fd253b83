"""Time-of-use engine: which rate applies at a meter-local moment, and TOU programs as registers.

Model (DL/T 645-2007 style, which Compere's tariff order follows): a zone table maps dates
(MM-DD, each entry running until the next and wrapping round the year) to a day-table number;
a day table maps times (hh:mm, running until the next and wrapping past midnight) to a rate 1-5.
A meter holds two complete sets and switches from the active one to the standby one at a
programmed moment, separately for zone tables and for day tables.

How many zones, day tables and periods a day a meter holds is profile data with its source
(``Profile.tou_sizes``); :func:`table_sizes` answers it for a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from kpm37.errors import ProfileError, ValueOutOfRange
from kpm37.profile import Profile, TouSizes
from kpm37.quantities import Rate

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # Feb 29 is a valid entry

SetName = Literal["a", "b"]


@dataclass(frozen=True)
class ZoneEntry:
    """From ``month``-``day`` on (until the next entry), use day table ``day_table``."""

    month: int
    day: int
    day_table: int


@dataclass(frozen=True)
class DaySlot:
    """From ``hour``:``minute`` on (until the next slot), bill to ``rate``."""

    hour: int
    minute: int
    rate: int


@dataclass
class TariffSet:
    """One complete set: zone table plus its day tables (numbered 1-8)."""

    zones: list[ZoneEntry] = field(default_factory=list)
    day_tables: dict[int, list[DaySlot]] = field(default_factory=dict)

    def validate(self, sizes: TouSizes | None = None) -> list[tuple[str, str]]:
        """Every problem as (field, reason); empty when the set is usable. With ``sizes`` (a
        profile's, see :func:`table_sizes`) the tables must also fit the meter."""
        errors = _zone_errors(self.zones, self.day_tables, sizes)
        if sizes is not None and len(self.day_tables) > sizes.day_tables:
            errors.append(("day_tables", f"at most {sizes.day_tables} day tables"))
        for number, slots in sorted(self.day_tables.items()):
            errors += _slot_errors(number, slots, sizes)
        return errors

    def rate_at(self, local: datetime) -> Rate:
        """The rate at meter-local time ``local``; ValueError if the set is invalid."""
        return _rate(self, self, local)


@dataclass
class TouProgram:
    """Both sets as the meter holds them, with the pending switch-over moments (meter local)."""

    set_a: TariffSet
    set_b: TariffSet = field(default_factory=TariffSet)
    active: SetName = "a"
    zone_switch_at: datetime | None = None
    day_switch_at: datetime | None = None

    def sets(self, local: datetime) -> tuple[TariffSet, TariffSet]:
        """(set whose zone table applies, set whose day tables apply) at ``local``."""
        active, standby = ((self.set_a, self.set_b) if self.active == "a"
                           else (self.set_b, self.set_a))
        zones = standby if _reached(self.zone_switch_at, local) else active
        days = standby if _reached(self.day_switch_at, local) else active
        return zones, days

    def rate_at(self, local: datetime) -> Rate:
        zones, days = self.sets(local)
        return _rate(zones, days, local)

    def validate(self, sizes: TouSizes | None = None) -> list[tuple[str, str]]:
        errors = [(f"set_a.{f}", r) for f, r in self.set_a.validate(sizes)]
        if self.set_b.zones or self.set_b.day_tables:
            errors += [(f"set_b.{f}", r) for f, r in self.set_b.validate(sizes)]
        if self.active not in ("a", "b"):
            errors.append(("active", f"{self.active!r} is not 'a' or 'b'"))
        return errors

    def next_change(self, local: datetime) -> datetime:
        """The next moment after ``local`` at which the rate may change (a slot, zone or
        switch-over boundary), at most one day ahead. Lets a meter split energy exactly."""
        candidates = [local.replace(hour=0, minute=0, second=0, microsecond=0)
                      + timedelta(days=1)]
        for moment in (self.zone_switch_at, self.day_switch_at):
            if moment is not None and moment > local:
                candidates.append(moment)
        _, days = self.sets(local)
        for slots in days.day_tables.values():
            for slot in slots:
                at = local.replace(hour=slot.hour, minute=slot.minute, second=0, microsecond=0)
                if at > local:
                    candidates.append(at)
        return min(candidates)


def _reached(moment: datetime | None, local: datetime) -> bool:
    return moment is not None and local >= moment


def _rate(zone_set: TariffSet, day_set: TariffSet, local: datetime) -> Rate:
    zones = sorted(zone_set.zones, key=lambda z: (z.month, z.day))
    if not zones:
        raise ValueError("TOU set has no zone entries")
    today = (local.month, local.day)
    # Entries before today in the year; none means we are still in last year's final entry.
    current = [z for z in zones if (z.month, z.day) <= today]
    zone = current[-1] if current else zones[-1]
    slots = sorted(day_set.day_tables.get(zone.day_table, []), key=lambda s: (s.hour, s.minute))
    if not slots:
        raise ValueError(f"day table {zone.day_table} is missing or empty")
    now = (local.hour, local.minute)
    running = [s for s in slots if (s.hour, s.minute) <= now]
    return Rate((running[-1] if running else slots[-1]).rate)


def table_sizes(profile: Profile) -> TouSizes:
    """The TOU table sizes of ``profile`` (zones, day tables, periods a day, rates) with their
    source; ProfileError if the profile does not say."""
    if profile.tou_sizes is None:
        raise ProfileError(f"profile {profile.name!r} gives no tou_sizes")
    return profile.tou_sizes


def _zone_errors(zones: list[ZoneEntry], tables: dict[int, list[DaySlot]],
                 sizes: TouSizes | None) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not zones:
        errors.append(("zones", "at least one zone entry is needed"))
    if sizes is not None and len(zones) > sizes.zones:
        errors.append(("zones", f"at most {sizes.zones} zone entries, got {len(zones)}"))
    for i, zone in enumerate(zones, start=1):
        where = f"zones[{i}]"
        if not 1 <= zone.month <= 12:
            errors.append((f"{where}.month", f"{zone.month} is not a month 1-12"))
        elif not 1 <= zone.day <= _DAYS_IN_MONTH[zone.month - 1]:
            errors.append((f"{where}.day", f"{zone.day} is not a day of month {zone.month}"))
        if zone.day_table not in tables:
            errors.append((f"{where}.day_table", f"day table {zone.day_table} does not exist"))
        if i > 1 and (zones[i - 2].month, zones[i - 2].day) >= (zone.month, zone.day):
            errors.append((where, "entries must be in strictly increasing date order"))
    return errors


def _slot_errors(number: int, slots: list[DaySlot], sizes: TouSizes | None
                 ) -> list[tuple[str, str]]:
    where = f"day_tables[{number}]"
    errors: list[tuple[str, str]] = []
    if number < 1 or (sizes is not None and number > sizes.day_tables):
        top = sizes.day_tables if sizes is not None else "n"
        errors.append((where, f"day table numbers run 1-{top}"))
    if not slots:
        errors.append((where, "a day table needs at least one slot"))
    if sizes is not None and len(slots) > sizes.periods_per_day:
        errors.append((where, f"at most {sizes.periods_per_day} slots, got {len(slots)}"))
    for i, slot in enumerate(slots, start=1):
        at = f"{where}[{i}]"
        if not (0 <= slot.hour <= 23 and 0 <= slot.minute <= 59):
            errors.append((at, f"{slot.hour:02d}:{slot.minute:02d} is not a time of day"))
        rates = sizes.rates if sizes is not None else len(Rate)
        if not 1 <= slot.rate <= rates:
            errors.append((f"{at}.rate", f"{slot.rate} is not a rate 1-{rates}"))
        if i > 1 and (slots[i - 2].hour, slots[i - 2].minute) >= (slot.hour, slot.minute):
            errors.append((at, "slots must be in strictly increasing time order"))
    return errors


# --- programs as profile registers ------------------------------------------------------------

def encode_program(profile: Profile, program: TouProgram,
                   which_set: Literal["a", "b", "all"]) -> dict[str, Any]:
    """Register values for one set (``"a"``/``"b"``: its zone and day tables, unused entries
    zeroed) or for everything (``"all"``: both sets, active set and switch-over times).
    An invalid program raises ValueOutOfRange with the first (field, reason)."""
    sizes = table_sizes(profile)
    errors = program.validate(sizes)
    if errors:
        raise ValueOutOfRange(*errors[0])
    if which_set == "all":
        both = encode_program(profile, program, "a") | encode_program(profile, program, "b")
        return both | encode_switchover(program)
    tariff = program.set_a if which_set == "a" else program.set_b
    values: dict[str, Any] = {}
    for i in range(1, sizes.zones + 1):
        zone = tariff.zones[i - 1] if i <= len(tariff.zones) else ZoneEntry(0, 0, 0)
        stem = f"tou_zone_{which_set}_{i:02d}"
        values |= {f"{stem}_month": zone.month, f"{stem}_day": zone.day,
                   f"{stem}_day_table": zone.day_table}
    for t in range(1, sizes.day_tables + 1):
        slots = tariff.day_tables.get(t, [])
        for i in range(1, sizes.periods_per_day + 1):
            slot = slots[i - 1] if i <= len(slots) else DaySlot(0, 0, 0)
            stem = f"tou_day_{which_set}_t{t}_{i:02d}"
            values |= {f"{stem}_hour": slot.hour, f"{stem}_minute": slot.minute,
                       f"{stem}_rate": slot.rate}
    unknown = [name for name in values if not profile.has(name)]
    if unknown:
        raise KeyError(f"profile {profile.name!r} has no TOU register {unknown[0]!r}")
    return values


def encode_switchover(program: TouProgram) -> dict[str, Any]:
    """The active-set indicator and both switch-over times (write these *after* the standby
    set has been written and read back)."""
    return {"tou_active_set": 0 if program.active == "a" else 1,
            "tou_zone_switch_at": program.zone_switch_at,
            "tou_day_switch_at": program.day_switch_at}


def decode_program(profile: Profile, values: dict[str, Any]) -> TouProgram:
    """Rebuild a program from register values (as read back); unused entries are dropped."""
    sizes = table_sizes(profile)
    return TouProgram(
        set_a=_decode_set(values, "a", sizes), set_b=_decode_set(values, "b", sizes),
        active="b" if values.get("tou_active_set") == 1 else "a",
        zone_switch_at=values.get("tou_zone_switch_at"),
        day_switch_at=values.get("tou_day_switch_at"),
    )


def _decode_set(values: dict[str, Any], name: str, sizes: TouSizes) -> TariffSet:
    zones = []
    for i in range(1, sizes.zones + 1):
        stem = f"tou_zone_{name}_{i:02d}"
        month = int(values.get(f"{stem}_month", 0))
        if month:
            zones.append(ZoneEntry(month, int(values[f"{stem}_day"]),
                                   int(values[f"{stem}_day_table"])))
    tables: dict[int, list[DaySlot]] = {}
    for t in range(1, sizes.day_tables + 1):
        slots = []
        for i in range(1, sizes.periods_per_day + 1):
            stem = f"tou_day_{name}_t{t}_{i:02d}"
            rate = int(values.get(f"{stem}_rate", 0))
            if rate:
                slots.append(DaySlot(int(values[f"{stem}_hour"]), int(values[f"{stem}_minute"]),
                                     rate))
        if slots:
            tables[t] = slots
    return TariffSet(zones, tables)
