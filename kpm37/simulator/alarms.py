"""Alarms of a simulated meter: which thresholds the present load crosses.

Thresholds are registers named ``<alarm>_threshold``: a percentage of the rated voltage,
current or power (primary side, so PT and CT ratios apply), or a percentage of unbalance.
A threshold of 0 disables its alarm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kpm37.simulator.terminals import Load, power, unbalance

ALARMS = ("voltage_loss", "under_voltage", "over_voltage", "over_current", "overload",
          "voltage_unbalance", "current_unbalance")


def active_alarms(values: Mapping[str, Any], load: Load) -> set[str]:
    """Names (from ALARMS) of the alarms whose enabled threshold ``load`` crosses."""
    flags = set()
    for alarm, check in _checks(values, load).items():
        threshold = values.get(f"{alarm}_threshold")
        if threshold and check(float(threshold)):  # a threshold of 0 disables the alarm
            flags.add(alarm)
    return flags


def alarm_flags(alarms: set[str]) -> int:
    """The ``alarm_flags`` register: one bit per alarm, in the order of ALARMS."""
    return sum(1 << ALARMS.index(a) for a in alarms)


def _checks(v: Mapping[str, Any], load: Load) -> dict[str, Callable[[float], bool]]:
    """For each alarm, whether the load crosses a given threshold."""
    un = float(v.get("rated_voltage") or 220) * float(v.get("pt_ratio") or 1)
    in_ = float(v.get("rated_current") or 5) * float(v.get("ct_ratio") or 1)
    volts, amps = load.voltage, load.current
    active, _ = power(load)
    return {
        "voltage_loss": lambda t: any(x < t / 100 * un for x in volts),
        "under_voltage": lambda t: any(_loss_threshold(v) / 100 * un <= x < t / 100 * un
                                       for x in volts),
        "over_voltage": lambda t: any(x > t / 100 * un for x in volts),
        "over_current": lambda t: any(x > t / 100 * in_ for x in amps),
        "overload": lambda t: active > t / 100 * (3 * un * in_ / 1000),
        "voltage_unbalance": lambda t: unbalance(volts) > t,
        "current_unbalance": lambda t: unbalance(amps) > t,
    }


def _loss_threshold(values: Mapping[str, Any]) -> float:
    """The voltage-loss threshold (% Un), below which under-voltage gives way to loss."""
    return float(values.get("voltage_loss_threshold") or 0)
