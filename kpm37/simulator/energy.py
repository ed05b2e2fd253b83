"""Energy accounting of a simulated meter: counters per TOU rate, and the monthly freeze.

Energy accrues into the rate that the meter's *own* clock and TOU tables give (the default
program when the profile has no TOU registers). On the billing day every counter is frozen,
keyed by the month the billing moment falls in; ``hist_<quantity>_mNN`` registers mirror the
present value (m00) and the frozen months.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kpm37.profile import Profile
from kpm37.quantities import ENERGY_COUNTERS, QUANTITIES, Rate, rate_counter
from kpm37.simulator.terminals import Load, power
from kpm37.tou import DaySlot, TariffSet, TouProgram, ZoneEntry, decode_program

MONTHS_KEPT = 12
MAX_STEP = timedelta(minutes=15)  # energy integration step while the load follows the day

# Used when the profile has no TOU registers (e.g. the KPM33B): valley at night, peak mornings,
# sharp evenings, flat otherwise, all year.
DEFAULT_PROGRAM = TouProgram(set_a=TariffSet(
    zones=[ZoneEntry(1, 1, 1)],
    day_tables={1: [DaySlot(0, 0, 4), DaySlot(7, 0, 3), DaySlot(10, 0, 2), DaySlot(12, 0, 3),
                    DaySlot(17, 0, 1), DaySlot(21, 0, 3), DaySlot(23, 0, 4)]}))


class EnergyBook:
    """The energy counters in the meter's register values, the frozen months and history."""

    def __init__(self, profile: Profile, values: dict[str, Any]) -> None:
        self._profile = profile
        self._values = values  # the meter's register values, shared: the counters live there
        self._history = _history_series(profile)
        self._frozen: dict[tuple[int, int], dict[str, float]] = {}
        self._program_cache: TouProgram | None = None

    def seed(self, rng: random.Random) -> None:
        """Start from a random total split over the rates like a plausible history."""
        for name in ENERGY_COUNTERS:
            self._values[name] = 0.0
        total = round(rng.uniform(100.0, 5000.0), 1)
        shares = (0.1, 0.3, 0.35, 0.25)  # sharp, peak, flat, valley: a plausible history
        for rate, share in zip(list(Rate)[:4], shares, strict=True):
            self._values[rate_counter("import", rate)] = total * share
            self._values[rate_counter("import", rate, reactive=True)] = total * share * 0.3
        self._values["import_active_energy"] = total
        self._values["import_reactive_energy"] = total * 0.3

    def forget_program(self) -> None:
        """A TOU register changed: decode the program again when next needed."""
        self._program_cache = None

    def advance(self, start: datetime, end: datetime, load_at: Callable[[datetime], Load],
                swinging: bool) -> None:
        """Accrue energy from meter-local ``start`` to ``end``, freezing on billing days.

        Steps end at every rate change and freeze; while the load follows the time of day
        (``swinging``) they are at most MAX_STEP long, so the integral follows the swing."""
        program = self._program()
        max_step = MAX_STEP if swinging else timedelta(days=1)
        cursor = start
        while cursor < end:
            freeze_at = self._next_freeze(cursor)
            step_end = min(program.next_change(cursor), freeze_at, end, cursor + max_step)
            self._accumulate(_rate_at(program, cursor), load_at(cursor),
                             (step_end - cursor).total_seconds() / 3600.0)
            cursor = step_end
            if cursor == freeze_at:
                self._freeze(cursor)

    def frozen_month(self, year: int, month: int) -> dict[str, float] | None:
        """A copy of the counters frozen in ``year``-``month``, if still kept."""
        frozen = self._frozen.get((year, month))
        return dict(frozen) if frozen is not None else None

    def refresh_history(self) -> None:
        """Copy present and frozen values into the ``hist_*`` registers."""
        frozen = [self._frozen[k] for k in sorted(self._frozen, reverse=True)]
        for name, quantity, months_ago in self._history:
            if months_ago == 0:
                self._values[name] = self._values[quantity]
            elif months_ago <= len(frozen):
                self._values[name] = frozen[months_ago - 1][quantity]

    def reset(self) -> None:
        """Every counter to zero; months already frozen are kept."""
        for name in ENERGY_COUNTERS:
            self._values[name] = 0.0
        self.refresh_history()

    def _program(self) -> TouProgram:
        if not self._profile.has("tou_zone_a_01_month"):
            return DEFAULT_PROGRAM
        if self._program_cache is None:
            self._program_cache = decode_program(self._profile, self._values)
        return self._program_cache

    def _accumulate(self, rate: Rate, load: Load, hours: float) -> None:
        active, reactive = power(load)
        for value, is_reactive in ((active, False), (reactive, True)):
            direction = "import" if value >= 0 else "export"
            energy = abs(value) * hours
            kind = "reactive" if is_reactive else "active"
            self._values[f"{direction}_{kind}_energy"] += energy
            self._values[rate_counter(direction, rate, reactive=is_reactive)] += energy

    def _next_freeze(self, local: datetime) -> datetime:
        day = int(self._values.get("billing_day") or 1)
        moment = datetime(local.year, local.month, day)  # noqa: DTZ001 - meter local time
        if moment <= local:
            year, month = divmod(local.year * 12 + local.month, 12)
            moment = datetime(year, month + 1, day)  # noqa: DTZ001
        return moment

    def _freeze(self, local: datetime) -> None:
        """Freeze all counters, keyed by the month in which the billing moment falls."""
        self._frozen[(local.year, local.month)] = {n: self._values[n] for n in ENERGY_COUNTERS}
        for key in sorted(self._frozen)[:-MONTHS_KEPT]:
            del self._frozen[key]


def _rate_at(program: TouProgram, local: datetime) -> Rate:
    try:
        return program.rate_at(local)
    except ValueError:
        return Rate.FLAT  # no usable TOU program: bill everything to flat


def _history_series(profile: Profile) -> list[tuple[str, str, int]]:
    """(register, quantity, months ago) for registers named ``hist_<quantity>_mNN``."""
    out = []
    for reg in profile.by_group("history"):
        stem, _, months = reg.name.removeprefix("hist_").rpartition("_m")
        if stem in QUANTITIES and months.isdigit():
            out.append((reg.name, stem, int(months)))
    return out
