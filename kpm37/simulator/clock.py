"""A simulated meter clock: meter-local wall time that can be set, drift, and run fast.

Real meters keep local time with no time zone or DST knowledge and drift a few seconds a day;
a meter whose clock is wrong bills energy to the wrong TOU rate. Tests inject ``utc_source`` so
every reading is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def _system_utc() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Local time = anchor + (UTC elapsed since anchor) x speed x (1 + drift).

    ``timezone`` only fixes the starting offset: like a real meter the clock then simply counts
    seconds and does not follow daylight-saving changes.
    """

    def __init__(self, *, utc_source: Callable[[], datetime] | None = None,
                 timezone: str = "UTC", speed: float = 1.0,
                 drift_seconds_per_hour: float = 0.0) -> None:
        self.utc_source = utc_source or _system_utc
        self._speed = speed
        self._drift = drift_seconds_per_hour
        self.generation = 0  # bumped on every set_local, so a meter can tell a jump from time
        utc = self._utc(None)
        self._anchor_utc = utc
        self._anchor_local = utc.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)

    @property
    def speed(self) -> float:
        """Meter seconds per real second (demos run fast)."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._reanchor()  # a new speed applies from now on, not retroactively
        self._speed = value

    @property
    def drift_seconds_per_hour(self) -> float:
        """How many seconds the clock gains (negative: loses) per hour of meter time."""
        return self._drift

    @drift_seconds_per_hour.setter
    def drift_seconds_per_hour(self, value: float) -> None:
        self._reanchor()
        self._drift = value

    def _reanchor(self) -> None:
        utc = self._utc(None)
        self._anchor_local = self.now_local(utc)
        self._anchor_utc = utc

    def _utc(self, utc_now: datetime | None) -> datetime:
        now = utc_now if utc_now is not None else self.utc_source()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def now_local(self, utc_now: datetime | None = None) -> datetime:
        """Meter-local time (naive) at ``utc_now`` (default: now from ``utc_source``)."""
        elapsed = (self._utc(utc_now) - self._anchor_utc).total_seconds() * self._speed
        drifted = elapsed * (1.0 + self._drift / 3600.0)
        return self._anchor_local + timedelta(seconds=drifted)

    def set_local(self, local: datetime, utc_now: datetime | None = None) -> None:
        """Set the meter's clock, as the front panel or a clock write does."""
        self._anchor_utc = self._utc(utc_now)
        self._anchor_local = local.replace(tzinfo=None, microsecond=0)
        self.generation += 1
