"""Reading one set of a plan: its zone table and its day tables, within the profile's sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpm37.profile import TouSizes
from kpm37.tou import DaySlot, TariffSet, ZoneEntry
from tariffs.document import fields

if TYPE_CHECKING:
    from tariffs.document.parse import _Reader

RATE_NAMES = {1: "sharp", 2: "peak", 3: "flat", 4: "valley", 5: "deep valley"}


def read_set(reader: _Reader, place: str, value: Any, rates: set[int] | None,
             sizes: TouSizes) -> TariffSet:
    """The entries of one set that could be read; problems go to ``reader``."""
    spec = reader.obj(place, value, ("zones", "day_tables"))
    if spec is None:
        return TariffSet()
    tables = _day_tables(reader, f"{place}.day_tables", spec.get("day_tables"), rates, sizes)
    zones = _zones(reader, f"{place}.zones", spec.get("zones"), tables, sizes)
    return TariffSet(zones, tables)


def _zones(reader: _Reader, place: str, value: Any, tables: dict[int, list[DaySlot]],
           sizes: TouSizes) -> list[ZoneEntry]:
    if not isinstance(value, list) or not value:
        reader.fail(place, "needs at least one zone, as [{\"start\": \"01-01\", "
                           "\"day_table\": 1}]")
        return []
    if len(value) > sizes.zones:
        reader.fail(place, f"the meter holds at most {sizes.zones} zones, got {len(value)}")
        return []
    zones: list[ZoneEntry] = []
    seen: dict[tuple[int, int], int] = {}
    for i, item in enumerate(value):
        at = f"{place}[{i}]"
        entry = reader.obj(at, item, ("start", "day_table"))
        if entry is None:
            continue
        start = reader.read(f"{at}.start", fields.zone_date, entry.get("start"))
        table = reader.read(f"{at}.day_table", fields.integer, entry.get("day_table"),
                            1, sizes.day_tables)
        if table is not None and table not in tables:
            reader.fail(f"{at}.day_table", f"day table {table} does not exist in this set")
        if start is None or not _in_order(reader, f"{at}.start", start, seen, i, "MM-DD"):
            continue
        if table is not None:
            zones.append(ZoneEntry(start[0], start[1], table))
    return zones


def _day_tables(reader: _Reader, place: str, value: Any, rates: set[int] | None,
                sizes: TouSizes) -> dict[int, list[DaySlot]]:
    if not isinstance(value, dict) or not value:
        reader.fail(place, "needs at least one day table, as {\"1\": [{\"start\": \"00:00\", "
                           "\"rate\": 3}]}")
        return {}
    if len(value) > sizes.day_tables:
        reader.fail(place, f"the meter holds at most {sizes.day_tables} day tables, "
                           f"got {len(value)}")
        return {}
    tables: dict[int, list[DaySlot]] = {}
    for key, periods in value.items():
        at = f"{place}.{key}"
        number = _number(key)
        if not 1 <= number <= sizes.day_tables:
            reader.fail(at, f"day tables are numbered 1-{sizes.day_tables}, "
                            f"not {fields.shown(key)}")
            continue
        if number in tables:
            reader.fail(at, f"day table {number} is given twice")
            continue
        tables[number] = _periods(reader, at, periods, rates, sizes)
    return tables


def _periods(reader: _Reader, place: str, value: Any, rates: set[int] | None,
             sizes: TouSizes) -> list[DaySlot]:
    if not isinstance(value, list) or not value:
        reader.fail(place, "needs at least one period, as [{\"start\": \"00:00\", \"rate\": 3}]")
        return []
    if len(value) > sizes.periods_per_day:
        reader.fail(place, f"the meter holds at most {sizes.periods_per_day} periods a day, "
                           f"got {len(value)}")
        return []
    slots: list[DaySlot] = []
    seen: dict[tuple[int, int], int] = {}
    for i, item in enumerate(value):
        at = f"{place}[{i}]"
        entry = reader.obj(at, item, ("start", "rate"))
        if entry is None:
            continue
        start = reader.read(f"{at}.start", fields.time_of_day, entry.get("start"))
        rate = reader.read(f"{at}.rate", fields.integer, entry.get("rate"), 1, 5)
        if rate is not None and rates is not None and rate not in rates:
            reader.fail(f"{at}.rate", f"rate {rate} ({RATE_NAMES[rate]}) is not one of the "
                                      "plan's rates")
        if start is None or not _in_order(reader, f"{at}.start", start, seen, i, "hh:mm"):
            continue
        if rate is not None:
            slots.append(DaySlot(start[0], start[1], rate))
    return slots


def _number(key: Any) -> int:
    """A table number from its JSON key; 0 when the key is not a short ASCII number."""
    ok = isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 4
    return int(key) if ok else 0


def _in_order(reader: _Reader, place: str, start: tuple[int, int],
              seen: dict[tuple[int, int], int], index: int, form: str) -> bool:
    """Starts must strictly increase; say which earlier entry a duplicate repeats."""
    text = f"{start[0]:02d}{':' if form == 'hh:mm' else '-'}{start[1]:02d}"
    if start in seen:
        reader.fail(place, f"{text} is already the start of entry [{seen[start]}]")
        return False
    if seen and start < max(seen):
        reader.fail(place, f"{text} comes before the entry above it; list starts in order")
        return False
    seen[start] = index
    return True
