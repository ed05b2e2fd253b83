"""TOU engine: hand-checked rates (midnight and year-end wrap, switch-over) and a register
round trip of whole programs."""

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpm37.profile import load_profile
from kpm37.quantities import Rate
from kpm37.tou import (
    DaySlot,
    TariffSet,
    TouProgram,
    ZoneEntry,
    decode_program,
    encode_program,
    encode_switchover,
    table_sizes,
)

NIGHT_VALLEY = {1: [DaySlot(8, 0, 2), DaySlot(12, 0, 3), DaySlot(22, 0, 4)]}
SUMMER = TariffSet(
    zones=[ZoneEntry(3, 1, 1), ZoneEntry(11, 15, 2)],
    day_tables={1: [DaySlot(8, 0, 2), DaySlot(22, 0, 4)], 2: [DaySlot(6, 30, 1)]},
)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


def test_day_slots_wrap_past_midnight() -> None:
    tariff = TariffSet([ZoneEntry(1, 1, 1)], NIGHT_VALLEY)
    assert tariff.rate_at(at(5, 1, 7, 59)) == Rate.VALLEY  # still yesterday's 22:00 slot
    assert tariff.rate_at(at(5, 1, 0, 0)) == Rate.VALLEY
    assert tariff.rate_at(at(5, 1, 8, 0)) == Rate.PEAK
    assert tariff.rate_at(at(5, 1, 11, 59)) == Rate.PEAK
    assert tariff.rate_at(at(5, 1, 12, 0)) == Rate.FLAT
    assert tariff.rate_at(at(5, 1, 23, 30)) == Rate.VALLEY


def test_zone_entries_wrap_round_the_year() -> None:
    # Jan 1 to Feb 28 are still in the entry that started on Nov 15 of the previous year.
    assert SUMMER.rate_at(at(1, 10, 12)) == Rate.SHARP
    assert SUMMER.rate_at(at(2, 28, 23)) == Rate.SHARP
    assert SUMMER.rate_at(at(3, 1, 12)) == Rate.PEAK
    assert SUMMER.rate_at(at(3, 1, 7)) == Rate.VALLEY  # table 1 wraps past midnight
    assert SUMMER.rate_at(at(11, 15, 6, 0)) == Rate.SHARP  # table 2's only slot wraps
    assert SUMMER.rate_at(at(12, 31, 23, 59)) == Rate.SHARP


def test_switch_over_moment_changes_the_sets() -> None:
    standby = TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(0, 0, 5)]})
    program = TouProgram(SUMMER, standby, "a", zone_switch_at=at(6, 1, 0),
                         day_switch_at=at(6, 1, 0))
    assert program.rate_at(at(5, 31, 21, 59)) == Rate.PEAK
    assert program.rate_at(at(5, 31, 23, 59)) == Rate.VALLEY
    assert program.rate_at(at(6, 1, 0, 0)) == Rate.DEEP_VALLEY
    later_days = TouProgram(SUMMER, standby, "a", zone_switch_at=None, day_switch_at=at(7, 1, 0))
    assert later_days.rate_at(at(6, 15, 12)) == Rate.PEAK
    # Active "b": the switch-over goes back to set a.
    flipped = TouProgram(SUMMER, standby, "b", zone_switch_at=at(6, 1, 0),
                         day_switch_at=at(6, 1, 0))
    assert flipped.rate_at(at(5, 1, 12)) == Rate.DEEP_VALLEY
    assert flipped.rate_at(at(6, 1, 12)) == Rate.PEAK


def test_next_change_finds_the_next_boundary() -> None:
    program = TouProgram(SUMMER, zone_switch_at=at(6, 1, 9, 30))
    assert program.next_change(at(6, 1, 7, 10)) == at(6, 1, 8, 0)
    assert program.next_change(at(6, 1, 8, 0)) == at(6, 1, 9, 30)
    assert program.next_change(at(6, 1, 23, 0)) == at(6, 2, 0, 0)


@pytest.mark.parametrize(("tariff", "field", "reason"), [
    (TariffSet([], {}), "zones", "at least one"),
    (TariffSet([ZoneEntry(2, 30, 1)], NIGHT_VALLEY), "zones[1].day", "not a day of month 2"),
    (TariffSet([ZoneEntry(13, 1, 1)], NIGHT_VALLEY), "zones[1].month", "not a month"),
    (TariffSet([ZoneEntry(1, 1, 3)], NIGHT_VALLEY), "zones[1].day_table", "does not exist"),
    (TariffSet([ZoneEntry(5, 1, 1), ZoneEntry(3, 1, 1)], NIGHT_VALLEY), "zones[2]",
     "strictly increasing"),
    (TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(8, 0, 6)]}), "day_tables[1][1].rate",
     "not a rate"),
    (TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(24, 0, 1)]}), "day_tables[1][1]",
     "not a time of day"),
    (TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(8, 0, 1), DaySlot(8, 0, 2)]}),
     "day_tables[1][2]", "strictly increasing"),
    (TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(h, 0, 1) for h in range(15)]}),
     "day_tables[1]", "at most 14 slots"),
    (TariffSet([ZoneEntry(m, 1, 1) for m in range(1, 13)] + [ZoneEntry(12, d, 1)
                                                             for d in (2, 3, 4)],
               NIGHT_VALLEY), "zones", "at most 14"),
])
def test_validate_reports_field_and_reason(tariff: TariffSet, field: str, reason: str) -> None:
    errors = tariff.validate(table_sizes(load_profile("kpm37")))
    assert any(f == field and reason in r for f, r in errors), errors


def test_table_sizes_are_the_profiles_with_their_source() -> None:
    kpm33b = table_sizes(load_profile("kpm33b"))
    # KPM33B manual V3.4 §1: 4 time zones, 8 time periods, 4 rates
    assert (kpm33b.zones, kpm33b.periods_per_day, kpm33b.rates) == (4, 8, 4)
    assert "V3.4 §1" in kpm33b.source
    nine = TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(h, 0, 1) for h in range(9)]})
    assert nine.validate(table_sizes(load_profile("kpm37"))) == []
    assert ("day_tables[1]", "at most 8 slots, got 9") in nine.validate(kpm33b)
    deep = TariffSet([ZoneEntry(1, 1, 1)], {1: [DaySlot(0, 0, 5)]})
    assert ("day_tables[1][1].rate", "5 is not a rate 1-4") in deep.validate(kpm33b)


def test_leap_day_entry_is_valid() -> None:
    assert TariffSet([ZoneEntry(2, 29, 1)], NIGHT_VALLEY).validate() == []


@st.composite
def tariff_sets(draw: st.DrawFn) -> TariffSet:
    tables = {}
    for number in draw(st.lists(st.integers(1, 8), min_size=1, max_size=8, unique=True)):
        times = draw(st.lists(st.tuples(st.integers(0, 23), st.integers(0, 59)), min_size=1,
                              max_size=14, unique=True))
        tables[number] = [DaySlot(h, m, draw(st.integers(1, 5))) for h, m in sorted(times)]
    dates = draw(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 28)), min_size=1,
                          max_size=14, unique=True))
    zones = [ZoneEntry(m, d, draw(st.sampled_from(sorted(tables)))) for m, d in sorted(dates)]
    return TariffSet(zones, tables)


moments = st.one_of(st.none(), st.datetimes(datetime(2020, 1, 1), datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=0)))


@settings(max_examples=60, deadline=None)
@given(tariff_sets(), tariff_sets(), st.sampled_from(["a", "b"]), moments, moments)
def test_programs_round_trip_through_profile_registers(
        a: TariffSet, b: TariffSet, active: str, zone_at: datetime | None,
        day_at: datetime | None) -> None:
    profile = load_profile("kpm37")
    program = TouProgram(a, b, active, zone_at, day_at)  # type: ignore[arg-type]
    assert program.validate() == []
    values = encode_program(profile, program, "all")
    assert all(profile.has(name) for name in values)
    assert decode_program(profile, values) == program


def test_encoding_one_set_touches_only_its_registers() -> None:
    profile = load_profile("kpm37")
    values = encode_program(profile, TouProgram(SUMMER, SUMMER), "b")
    assert values and all(n.startswith(("tou_zone_b_", "tou_day_b_")) for n in values)
    assert values["tou_zone_b_02_month"] == 11 and values["tou_zone_b_03_month"] == 0
    assert set(encode_switchover(TouProgram(SUMMER))) == {
        "tou_active_set", "tou_zone_switch_at", "tou_day_switch_at"}


def test_encoding_an_invalid_program_names_the_field() -> None:
    from kpm37.errors import ValueOutOfRange

    bad = TouProgram(TariffSet([ZoneEntry(1, 1, 2)], NIGHT_VALLEY))
    with pytest.raises(ValueOutOfRange) as info:
        encode_program(load_profile("kpm37"), bad, "a")
    assert info.value.field == "set_a.zones[1].day_table"
