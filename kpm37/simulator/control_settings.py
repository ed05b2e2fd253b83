"""What the simulator's control channel may change on a meter, how it is checked and applied.

Settings arrive as a JSON object, for example ``{"silent": true, "voltage": 265}``. Every key is
checked before anything changes, so a request with one bad key changes nothing. Changes apply
under the meter's lock, after a tick, so energy so far accrues under the old conditions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from kpm37.simulator.meter import SimMeter
from kpm37.simulator.terminals import Load


class ControlError(ValueError):
    """A request the control channel refuses; the message is ``<field>: <reason>``."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")


@dataclass
class Controlled:
    """A meter the control channel can reach, with where it is served."""

    meter: SimMeter
    transport: str  # "modbus" or "mqtt"
    where: dict[str, Any]  # gateway, gateway_address and unit; or the MQTT meter's index
    original_load: Load | None = field(default=None, repr=False)  # before the first load change
    original_pinned: bool = field(default=False, repr=False)  # whether the load was pinned then


MODBUS_ONLY = frozenset({"corrupt_crc", "wrong_unit", "slow_ms"})  # faults the gateway acts on
MQTT_ONLY = frozenset({"duplicate_messages", "zero_messages"})  # faults the publisher acts on
MAX_SLOW_MS = 60_000
TEN_YEARS_S = 10 * 366 * 86_400.0


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ControlError(key, "must be true or false")
    return value


def _milliseconds(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SLOW_MS:
        raise ControlError(key, f"must be a whole number of milliseconds, 0-{MAX_SLOW_MS}")
    return value


def _number(low: float, high: float, *, releasable: bool = False) -> Callable[[str, object], Any]:
    def check(key: str, value: object) -> float | None:
        if value is None and releasable:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not low <= value <= high:
            release = " (or null to release it)" if releasable else ""
            raise ControlError(key, f"must be a number from {low:g} to {high:g}{release}")
        return float(value)

    return check


def _true(key: str, value: object) -> bool:
    if value is not True:
        raise ControlError(key, "must be true")
    return True


CHECKS: dict[str, Callable[[str, object], Any]] = {
    "silent": _flag, "corrupt_crc": _flag, "wrong_unit": _flag, "slow_ms": _milliseconds,
    "duplicate_messages": _flag, "zero_messages": _flag,
    "voltage": _number(0, 1e6, releasable=True), "current": _number(0, 1e5, releasable=True),
    "power_factor": _number(-1, 1, releasable=True), "reset_energy": _true,
    "clock_offset_s": _number(-TEN_YEARS_S, TEN_YEARS_S),
    # Beyond -3600 s/h the clock would run backwards; real meters drift seconds a day.
    "clock_drift_s_per_h": _number(-3000, 3000),
}


def check_settings(raw: object) -> dict[str, Any]:
    """The checked settings of a ``set`` object; ControlError names the first bad key."""
    if not isinstance(raw, Mapping) or not raw:
        raise ControlError("set", "must be a non-empty object of settings")
    checked = {}
    for key, value in raw.items():
        check = CHECKS.get(key)
        if check is None:
            raise ControlError(key, f"unknown setting (known: {', '.join(CHECKS)})")
        checked[key] = check(key, value)
    return checked


def applies(key: str, transport: str) -> bool:
    """Whether setting ``key`` has any effect on a meter served over ``transport``."""
    if key in MODBUS_ONLY:
        return transport == "modbus"
    return key not in MQTT_ONLY or transport == "mqtt"


def apply_settings(entry: Controlled, settings: Mapping[str, Any]) -> None:
    """Apply checked ``settings`` to the meter, skipping those that do not apply to it."""
    meter = entry.meter
    with meter.lock:
        meter.tick()
        for key, value in settings.items():
            if applies(key, entry.transport):
                _APPLY.get(key, _set_fault)(entry, key, value)


def _set_fault(entry: Controlled, key: str, value: Any) -> None:
    setattr(entry.meter.faults, key, value)


def _set_load(entry: Controlled, key: str, value: float | None) -> None:
    meter = entry.meter
    if entry.original_load is None:
        load = meter.load
        entry.original_load = Load(list(load.voltage), list(load.current), load.power_factor)
        entry.original_pinned = meter.pinned
    if value is None:
        # Release: back to what the meter saw before we first changed it; once nothing is
        # overridden any more, the current follows the time of day again as it did before.
        restored = getattr(entry.original_load, key)
        setattr(meter.load, key, list(restored) if isinstance(restored, list) else restored)
        meter.set_load()
        if meter.load == entry.original_load:
            meter.release_load(pinned=entry.original_pinned)
    else:
        meter.set_load(**{key: value})


def _shift_clock(entry: Controlled, _key: str, seconds: float) -> None:
    clock = entry.meter.clock
    clock.set_local(clock.now_local() + timedelta(seconds=seconds))


def _set_drift(entry: Controlled, _key: str, seconds_per_hour: float) -> None:
    entry.meter.clock.drift_seconds_per_hour = seconds_per_hour


def _reset_energy(entry: Controlled, _key: str, _value: bool) -> None:
    entry.meter.reset_energy()


_APPLY: dict[str, Callable[[Controlled, str, Any], None]] = {
    "voltage": _set_load, "current": _set_load, "power_factor": _set_load,
    "clock_offset_s": _shift_clock, "clock_drift_s_per_h": _set_drift,
    "reset_energy": _reset_energy,
}


def meter_state(entry: Controlled) -> dict[str, Any]:
    """The meter's code, where it is served, its active faults and key live values."""
    meter = entry.meter
    with meter.lock:
        values = meter.quantities()
        alarms = sorted(meter.alarms())
        clock = meter.clock.now_local().replace(microsecond=0)
        drift = meter.clock.drift_seconds_per_hour
        faults = {k: v for k, v in asdict(meter.faults).items() if v}
    live: dict[str, float] = {name: round(values[name], 3) for name in
            ("voltage_a", "current_a", "power_factor_total", "import_active_energy")
            if name in values}
    return {"code": meter.code, "transport": entry.transport, **entry.where, "faults": faults,
            **live, "alarms": alarms, "clock": clock.isoformat(),
            "clock_drift_s_per_h": drift}
