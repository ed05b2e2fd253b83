"""Demand of a simulated meter: the sliding-window average of power, and the monthly maximum.

The KPM37 manual (§4.2, ``dnnd``) defines demand as the average over a sliding window of
``dnnd`` minutes. The meter model records the power it integrates energy with (a step function:
each sample holds until the next), so the demand here is the time-weighted average of those
samples over the last ``dnnd`` minutes; a meter younger than its window averages what it has
seen (assumed). The monthly maximum restarts at the monthly demand date (``S_d``), when the
energy book freezes the month.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from kpm37.simulator.terminals import Load

DEFAULT_WINDOW_MINUTES = 15  # KPM37 manual §4.2: dnnd defaults to 15; used where there is none
Powers = dict[str, float]

# quantity whose window average is kept -> the maximum (and its time) tracked each month
MAXIMA = {"active_demand": "max_active_demand", "apparent_demand": "max_apparent_demand"}


def load_powers(load: Load) -> Powers:
    """The instantaneous values demand averages: total P (kW), Q (kvar), S (kVA), per-phase S
    and per-phase current."""
    pf = load.power_factor
    sin = math.sqrt(max(0.0, 1 - pf * pf))
    out: Powers = {}
    for p, v, i in zip("abc", load.voltage, load.current, strict=True):
        out[f"apparent_demand_{p}"] = v * i / 1000
        out[f"current_demand_{p}"] = i
    apparent = sum(out[f"apparent_demand_{p}"] for p in "abc")
    return out | {"active_demand": apparent * pf, "reactive_demand": apparent * sin,
                  "apparent_demand": apparent}


class DemandBook:
    """Power samples over the window, the present demand and this month's maxima.

    Each sample keeps the running integral of every value up to its start, so the average
    over any window is a difference of two integrals: a read costs O(log n), not O(n)."""

    def __init__(self, window_minutes: Callable[[], int], epoch_of: Callable[[datetime], float]
                 ) -> None:
        self._window_minutes = window_minutes
        self._epoch_of = epoch_of  # meter-local time -> seconds since 1970 (UTC)
        self._times: list[datetime] = []
        self._samples: list[tuple[Powers, Powers]] = []  # (values, integral up to the start)
        self.maxima: dict[str, float] = {}

    def _window(self) -> timedelta:
        minutes = self._window_minutes()
        return timedelta(minutes=minutes if minutes > 0 else DEFAULT_WINDOW_MINUTES)

    def sample(self, local: datetime, load: Load) -> None:
        """From ``local`` on (until the next sample) the load was ``load``."""
        powers = load_powers(load)
        if self._times and self._times[-1] >= local:
            # the same moment again (a read right after a step), or a clock set backwards
            keep = bisect.bisect_left(self._times, local)
            del self._times[keep:], self._samples[keep:]
        integral = self._integral(local) if self._times else dict.fromkeys(powers, 0.0)
        self._times.append(local)
        self._samples.append((powers, integral))
        self._prune(local)
        self._track_maxima(local)

    def restart(self) -> None:
        """A clock jump: the window starts again from the next sample."""
        self._times.clear()
        self._samples.clear()

    def restart_month(self, local: datetime) -> None:
        """The monthly demand date: the maxima start again from the present demand."""
        self.maxima.clear()
        self._track_maxima(local)

    def demand(self, local: datetime) -> Powers:
        """Time-weighted average of the samples over the window ending at ``local``."""
        if not self._times:
            return {}
        start = max(local - self._window(), self._times[0])
        span = (local - start).total_seconds()
        if span <= 0:
            return dict(self._samples[-1][0])
        begin, end = self._integral(start), self._integral(local)
        return {name: (end[name] - begin[name]) / span for name in end}

    def _integral(self, local: datetime) -> Powers:
        """The integral of every value from the first sample up to ``local``."""
        index = max(0, bisect.bisect_right(self._times, local) - 1)
        powers, before = self._samples[index]
        seconds = (local - self._times[index]).total_seconds()
        return {name: before[name] + value * seconds for name, value in powers.items()}

    def values(self, local: datetime) -> dict[str, float]:
        """Present demand and this month's maxima, by quantity name."""
        return self.demand(local) | self.maxima

    def _prune(self, local: datetime) -> None:
        """Forget samples that ended before the window (the integrals stay differences)."""
        first = bisect.bisect_right(self._times, local - self._window()) - 1
        if first > 0:
            del self._times[:first], self._samples[:first]

    def _track_maxima(self, local: datetime) -> None:
        now = self.demand(local)
        for name, maximum in MAXIMA.items():
            value = now.get(name)
            if value is not None and value > self.maxima.get(maximum, -math.inf):
                self.maxima[maximum] = value
                self.maxima[f"{maximum}_at"] = float(int(self._epoch_of(local)))
