"""Which alarm conditions one set of readings shows: pure functions, no database.

``evaluate`` returns, per alarm kind it could judge, either a Condition (the alarm holds) or
None (judged and fine, so an open alarm of that kind clears). Kinds whose inputs the readings
do not carry are left out, so a minute-level energy message never clears a voltage alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meters.alarms.choices import AlarmKind
from meters.alarms.thresholds import Thresholds

PHASES = "abc"


@dataclass(frozen=True)
class Condition:
    """An alarm condition that holds, with a human message and the numbers behind it."""

    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


Outcome = dict[str, Condition | None]


def _when(hit: Mapping[str, float], kind: str, message: str, limit: float,
          key: str = "phases") -> Condition | None:
    """A condition when any phase or sensor is out of limits, else None (judged fine)."""
    if not hit:
        return None
    return Condition(kind, message, {key: dict(hit), "limit": limit})


def _phase_values(values: Mapping[str, float], stem: str) -> dict[str, float] | None:
    names = [f"{stem}_{p}" for p in PHASES]
    if not all(n in values for n in names):
        return None
    return {n: float(values[n]) for n in names}


def _unbalance(phases: Mapping[str, float]) -> float:
    """Largest deviation from the mean, in percent of the mean (0 when all are zero)."""
    mean = sum(phases.values()) / len(phases)
    return 0.0 if mean == 0 else max(abs(v - mean) for v in phases.values()) / mean * 100


def _voltage(out: Outcome, values: Mapping[str, float], t: Thresholds) -> None:
    volts = _phase_values(values, "voltage")
    if volts is None:
        return
    lost = {n: v for n, v in volts.items() if v < t.voltage_loss_v}
    under = {n: v for n, v in volts.items() if t.voltage_loss_v <= v < t.under_voltage_v}
    over = {n: v for n, v in volts.items() if v > t.over_voltage_v}
    out[AlarmKind.VOLTAGE_LOSS] = _when(lost, AlarmKind.VOLTAGE_LOSS,
                                        f"voltage below {t.voltage_loss_v:.1f} V",
                                        t.voltage_loss_v)
    out[AlarmKind.UNDER_VOLTAGE] = _when(under, AlarmKind.UNDER_VOLTAGE,
                                         f"voltage below {t.under_voltage_v:.1f} V",
                                         t.under_voltage_v)
    out[AlarmKind.OVER_VOLTAGE] = _when(over, AlarmKind.OVER_VOLTAGE,
                                        f"voltage above {t.over_voltage_v:.1f} V",
                                        t.over_voltage_v)
    unb = values.get("voltage_unbalance", _unbalance(volts) if not lost else 0.0)
    out[AlarmKind.VOLTAGE_IMBALANCE] = _above(
        AlarmKind.VOLTAGE_IMBALANCE, "voltage unbalance", float(unb), t.voltage_unbalance_pct, "%")


def _current(out: Outcome, values: Mapping[str, float], t: Thresholds) -> None:
    amps = _phase_values(values, "current")
    if amps is None:
        return
    over = {n: v for n, v in amps.items() if v > t.over_current_a}
    out[AlarmKind.OVER_CURRENT] = _when(over, AlarmKind.OVER_CURRENT,
                                        f"current above {t.over_current_a:.1f} A",
                                        t.over_current_a)
    inb = values.get("current_unbalance", _unbalance(amps))
    out[AlarmKind.CURRENT_IMBALANCE] = _above(
        AlarmKind.CURRENT_IMBALANCE, "current unbalance", float(inb), t.current_unbalance_pct, "%")


def _above(kind: str, what: str, value: float, limit: float, unit: str) -> Condition | None:
    if value <= limit:
        return None
    return Condition(kind, f"{what} {value:.2f} {unit} above {limit:.2f} {unit}",
                     {"value": value, "limit": limit})


def _single(out: Outcome, values: Mapping[str, float], t: Thresholds) -> None:
    if "active_power_total" in values:
        out[AlarmKind.OVERLOAD] = _above(AlarmKind.OVERLOAD, "active power",
                                         abs(float(values["active_power_total"])),
                                         t.overload_kw, "kW")
    if "residual_current" in values:
        out[AlarmKind.RESIDUAL_CURRENT] = _above(AlarmKind.RESIDUAL_CURRENT, "residual current",
                                                 float(values["residual_current"]),
                                                 t.residual_current_ma, "mA")
    temps = {n: float(values[n]) for n in ("temperature_a", "temperature_b", "temperature_c",
                                           "temperature_n") if n in values}
    if temps:
        hot = {n: v for n, v in temps.items() if v > t.temperature_c}
        out[AlarmKind.TEMPERATURE] = _when(hot, AlarmKind.TEMPERATURE,
                                           f"temperature above {t.temperature_c:.0f} °C",
                                           t.temperature_c, key="sensors")


def evaluate(values: Mapping[str, float], thresholds: Thresholds) -> Outcome:
    """Judge the meter-side alarm kinds these readings carry inputs for."""
    out: Outcome = {}
    _voltage(out, values, thresholds)
    _current(out, values, thresholds)
    _single(out, values, thresholds)
    return out


def di_change(previous: float | None, current: float | None) -> Condition | None:
    """A DI change event when the digital-input bits differ from the last known ones."""
    if previous is None or current is None or int(previous) == int(current):
        return None
    return Condition(AlarmKind.DI_CHANGE, f"digital inputs {int(previous):#x} -> {int(current):#x}",
                     {"previous": int(previous), "current": int(current)})
