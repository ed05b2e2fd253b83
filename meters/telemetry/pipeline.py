"""The checks every incoming reading passes before it is stored, MQTT and Modbus alike.

Pure functions over plain values and the meter's latest state: is it all zero, did an energy
counter go backwards, is the meter's clock off, did the digital inputs change. The services
module does the database work around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kpm37.mqtt.topics import ENY_NOW, RT_DATA, TELEIND
from kpm37.quantities import ENERGY_COUNTERS
from meters.alarms.choices import AlarmKind
from meters.alarms.rules import Condition
from meters.telemetry.choices import MODBUS_SOURCE

LIVE_SOURCES = frozenset({RT_DATA, ENY_NOW, TELEIND, MODBUS_SOURCE})
"""Sources whose values are the meter's present state. Frozen day/month readings
(MQTT_DAY_DATA, recall replies) are stored as history but are not "latest", and their counters
are naturally lower than today's, so they skip the backwards check."""

COUNTER_TOLERANCE = 1e-6  # float32 counters round-trip through JSON text


@dataclass
class Candidate:
    """One message or poll result for a known meter, ready to be checked and stored."""

    meter: Any  # meters.models.Meter
    source: str
    time: datetime  # aware UTC
    values: dict[str, float]
    extra: dict[str, float] = field(default_factory=dict)
    raw: bytes = b""
    meter_clock: bool = False  # True when ``time`` came from the meter's own clock

    @property
    def key(self) -> tuple[int, str, datetime]:
        return (self.meter.pk, self.source, self.time)

    @property
    def is_live(self) -> bool:
        return self.source in LIVE_SOURCES


def is_all_zero(candidate: Candidate) -> bool:
    """True for the all-zero messages real meters send among real ones."""
    values = [*candidate.values.values(), *candidate.extra.values()]
    return bool(values) and all(v == 0 for v in values)


def backwards_counters(candidate: Candidate, latest: dict[str, dict[str, Any]]
                       ) -> dict[str, tuple[float, float]]:
    """Energy counters lower than the last accepted value at an earlier time: name -> (was, now)."""
    if not candidate.is_live:
        return {}
    found = {}
    for name in ENERGY_COUNTERS:
        if name not in candidate.values or name not in latest:
            continue
        was, now = float(latest[name]["value"]), candidate.values[name]
        if datetime.fromisoformat(latest[name]["time"]) <= candidate.time and \
                now < was - COUNTER_TOLERANCE:
            found[name] = (was, now)
    return found


def clock_condition(candidate: Candidate, received_at: datetime,
                    tolerance_s: int) -> Condition | None:
    """A clock-off condition when the meter's time differs from receive time too much."""
    offset = (candidate.time - received_at).total_seconds()
    if abs(offset) <= tolerance_s:
        return None
    return Condition(AlarmKind.CLOCK_OFF,
                     f"meter clock off by {offset:+.0f} s (tolerance {tolerance_s} s)",
                     {"offset_s": round(offset), "meter_time_utc": candidate.time.isoformat(),
                      "received_at": received_at.isoformat(), "tolerance_s": tolerance_s})


def merge_latest(latest: dict[str, dict[str, Any]], candidate: Candidate) -> bool:
    """Fold a live candidate's known quantities into the latest state; True if anything changed.

    Only quantities the profile knows (``values``): unknown tags stay on their reading, so a
    message with thousands of made-up tags cannot grow the state every live page polls."""
    if not candidate.is_live:
        return False
    stamp = candidate.time.isoformat()
    changed = False
    for name, value in candidate.values.items():
        held = latest.get(name)
        if held is None or datetime.fromisoformat(held["time"]) <= candidate.time:
            latest[name] = {"value": value, "time": stamp}
            changed = True
    return changed
