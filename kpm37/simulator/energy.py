"""Energy accounting of a simulated meter: counters per TOU rate, and the monthly freeze.

Energy accrues into the rate that the meter's *own* clock and TOU tables give (the default
program when the profile has no TOU registers), per phase and in total. At 0:00 on the monthly
date (``billing_day``, S_d; the 1st where the profile has none) every counter reading is frozen,
keyed by the month the moment falls in: RECALL (V1.9 §4.6, "monthly frozen data") answers
those readings. The ``consumed_<quantity>_mNN`` history registers hold what the KPM33B manual
V3.4 §4.1 says they hold, the energy consumed in a month: m00 since the last freeze, mNN
between the N-th and the (N+1)-th freeze before now.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kpm37.profile import Profile
from kpm37.quantities import ENERGY_COUNTERS, QUANTITIES, Rate, rate_counter
from kpm37.simulator.terminals import Load
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
        self._opening: dict[str, float] = {}  # readings when counting began (or was cleared)
        self._program_cache: TouProgram | None = None
        self.on_freeze: Callable[[datetime], None] | None = None

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
        for p in "abc":
            self._values[f"import_active_energy_{p}"] = total / 3
            self._values[f"import_reactive_energy_{p}"] = total * 0.3 / 3
        self._values["apparent_energy"] = total * 1.05
        _totals(self._values)
        self._opening = _readings(self._values)

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
                if self.on_freeze is not None:
                    self.on_freeze(cursor)

    def frozen_month(self, year: int, month: int) -> dict[str, float] | None:
        """A copy of the counters frozen in ``year``-``month``, if still kept."""
        frozen = self._frozen.get((year, month))
        return dict(frozen) if frozen is not None else None

    def refresh_history(self) -> None:
        """Each month's consumption into the ``consumed_*`` registers: the difference between
        the readings that open and close it (the present counter for this month)."""
        starts = [self._frozen[k] for k in sorted(self._frozen, reverse=True)] + [self._opening]
        for name, quantity, months_ago in self._history:
            end = self._values if months_ago == 0 else (
                starts[months_ago - 1] if months_ago <= len(starts) else None)
            begin = starts[months_ago] if months_ago < len(starts) else None
            self._values[name] = (float(end.get(quantity, 0.0)) - begin.get(quantity, 0.0)
                                  if end is not None and begin is not None else 0.0)

    def reset(self) -> None:
        """Every counter and the history to zero, as the KPM33B's energy clear (§5.2 Eclr)
        clears current, historical and multi-rate energy."""
        for name in ENERGY_COUNTERS:
            self._values[name] = 0.0
        self._frozen.clear()
        self._opening = _readings(self._values)
        self.refresh_history()

    def _program(self) -> TouProgram:
        if not self._profile.has("tou_zone_a_01_month"):
            return DEFAULT_PROGRAM
        if self._program_cache is None:
            self._program_cache = decode_program(self._profile, self._values)
        return self._program_cache

    def _accumulate(self, rate: Rate, load: Load, hours: float) -> None:
        pf = load.power_factor
        sin = math.sqrt(max(0.0, 1 - pf * pf))
        active_to = "import" if pf >= 0 else "export"  # a negative power factor exports
        for p, v, i in zip("abc", load.voltage, load.current, strict=True):
            apparent = v * i / 1000 * hours
            self._values["apparent_energy"] += apparent
            for kind, energy in (("active", abs(pf) * apparent), ("reactive", sin * apparent)):
                direction = active_to if kind == "active" else "import"
                self._values[f"{direction}_{kind}_energy"] += energy
                self._values[f"{direction}_{kind}_energy_{p}"] += energy
                self._values[rate_counter(direction, rate, reactive=kind == "reactive")] += energy
        _totals(self._values)

    def _next_freeze(self, local: datetime) -> datetime:
        day = int(self._values.get("billing_day") or 1)
        moment = datetime(local.year, local.month, day)  # noqa: DTZ001 - meter local time
        if moment <= local:
            year, month = divmod(local.year * 12 + local.month, 12)
            moment = datetime(year, month + 1, day)  # noqa: DTZ001
        return moment

    def _freeze(self, local: datetime) -> None:
        """Freeze all counters, keyed by the month in which the billing moment falls."""
        self._frozen[(local.year, local.month)] = _readings(self._values)
        for key in sorted(self._frozen)[:-MONTHS_KEPT]:
            self._opening = self._frozen.pop(key)  # the oldest month kept begins here


def _rate_at(program: TouProgram, local: datetime) -> Rate:
    try:
        return program.rate_at(local)
    except ValueError:
        return Rate.FLAT  # no usable TOU program: bill everything to flat


def _readings(values: dict[str, Any]) -> dict[str, float]:
    return {n: float(values.get(n) or 0.0) for n in ENERGY_COUNTERS}


def _totals(values: dict[str, Any]) -> None:
    """Total (combined) energy = import + export (KPM37 manual §3.2 records the sum)."""
    for kind in ("active", "reactive"):
        values[f"total_{kind}_energy"] = (values[f"import_{kind}_energy"]
                                          + values[f"export_{kind}_energy"])


def _history_series(profile: Profile) -> list[tuple[str, str, int]]:
    """(register, quantity, months ago) for registers named ``consumed_<quantity>_mNN``."""
    out = []
    for reg in profile.by_group("history"):
        stem, _, months = reg.name.removeprefix("consumed_").rpartition("_m")
        if stem in QUANTITIES and months.isdigit():
            out.append((reg.name, stem, int(months)))
    return out
