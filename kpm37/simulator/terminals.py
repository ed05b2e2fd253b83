"""What a simulated meter sees on its terminals: the load, and the readings that follow from it.

Pure functions of a :class:`Load` (and, for per-meter constants, a seeded random source), so
the meter model can ask for the present readings or the power at any moment of the day.
"""

from __future__ import annotations

import cmath
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class Load:
    """What the meter sees on its terminals (primary side), per phase A, B, C."""

    voltage: list[float]
    current: list[float]
    power_factor: float


def seeded_load(values: Mapping[str, Any], rng: random.Random) -> Load:
    """A plausible load: near the rated voltage, 20-60 % of the rated current, inductive."""
    rated_v = float(values.get("rated_voltage") or 220)
    rated_i = float(values.get("rated_current") or 5)
    base_v = rated_v * rng.uniform(0.98, 1.02)
    base_i = rated_i * rng.uniform(0.2, 0.6)
    return Load(voltage=[base_v * rng.uniform(0.997, 1.003) for _ in range(3)],
                current=[base_i * rng.uniform(0.98, 1.02) for _ in range(3)],
                power_factor=round(rng.uniform(0.85, 0.99), 3))


def swung(load: Load, local: datetime, daily_swing: float) -> Load:
    """``load`` with its current swung by the time of day: peaking mid-afternoon, lowest at
    night, by ``daily_swing`` (0.3 is +-30 %)."""
    hours = local.hour + local.minute / 60
    factor = 1 + daily_swing * math.sin(2 * math.pi * (hours - 9) / 24)
    return Load(list(load.voltage), [i * factor for i in load.current], load.power_factor)


def power(load: Load) -> tuple[float, float]:
    """(total active kW, total reactive kvar); a negative power factor means export."""
    pf = load.power_factor
    s = sum(v * i for v, i in zip(load.voltage, load.current, strict=True)) / 1000
    return s * pf, s * math.sqrt(max(0.0, 1 - pf * pf))


def unbalance(values: list[float]) -> float:
    """Largest deviation from the mean, in % of the mean (0 when the mean is not positive)."""
    mean = sum(values) / len(values)
    return 0.0 if mean <= 0 else max(abs(x - mean) for x in values) / mean * 100


def measurements(load: Load, rng: random.Random) -> dict[str, float]:
    """Instantaneous quantities of a balanced-ish inductive load, 120 degrees between phases."""
    out = _phase_values(load)
    for kind in ("active_power", "reactive_power", "apparent_power"):
        out[f"{kind}_total"] = sum(out[f"{kind}_{p}"] for p in "abc")
    out["power_factor_total"] = load.power_factor
    out["voltage_unbalance"] = unbalance(load.voltage)
    out["current_unbalance"] = unbalance(load.current)
    return out | _angles_and_sequences(load) | _meter_constants(rng)


def _angles_and_sequences(load: Load) -> dict[str, float]:
    """Phase angles in degrees (Ua at 0, Ub at 240, Uc at 120, as real KPM33B captures show)
    and the symmetrical components of voltage and current."""
    lag = math.degrees(math.acos(max(-1.0, min(1.0, load.power_factor))))
    out: dict[str, float] = {}
    phasors: dict[str, list[complex]] = {"voltage": [], "current": []}
    for p, v, i, at in zip("abc", load.voltage, load.current, (0.0, 240.0, 120.0), strict=True):
        out[f"angle_voltage_{p}"] = at
        out[f"angle_current_{p}"] = (at - lag) % 360
        phasors["voltage"].append(cmath.rect(v, math.radians(at)))
        phasors["current"].append(cmath.rect(i, math.radians(at - lag)))
    a = cmath.rect(1, math.radians(120))
    for ui, (x, y, z) in phasors.items():
        out[f"{ui}_zero_sequence"] = abs(x + y + z) / 3
        out[f"{ui}_positive_sequence"] = abs(x + a * y + a * a * z) / 3
        out[f"{ui}_negative_sequence"] = abs(x + a * a * y + a * z) / 3
    return out


def _phase_values(load: Load) -> dict[str, float]:
    out: dict[str, float] = {}
    pf = load.power_factor
    sin = math.sqrt(max(0.0, 1 - pf * pf))
    for p, v, i in zip("abc", load.voltage, load.current, strict=True):
        s = v * i / 1000
        out |= {f"voltage_{p}": v, f"current_{p}": i, f"apparent_power_{p}": s,
                f"active_power_{p}": s * pf, f"reactive_power_{p}": s * sin,
                f"power_factor_{p}": pf}
    va, vb, vc = load.voltage
    for name, x, y in (("ab", va, vb), ("bc", vb, vc), ("ca", vc, va)):
        out[f"voltage_{name}"] = math.sqrt(x * x + y * y + x * y)
    return out


def _meter_constants(rng: random.Random) -> dict[str, float]:
    """Frequency, temperatures, residual current and harmonics: drawn from a per-meter seed."""
    out = {"frequency": 50.0 + rng.uniform(-0.03, 0.03)}
    out |= {f"temperature_{t}": 25.0 + rng.uniform(-3, 8) for t in "abcn"}
    out["residual_current"] = rng.uniform(1, 15)
    for ui in ("voltage", "current"):
        for p in "abc":
            out[f"thd_{ui}_{p}"] = rng.uniform(1, 4) * (2 if ui == "current" else 1)
            out |= {f"h{h}_{ui}_{p}": rng.uniform(0.1, 2) / h * 3 for h in (3, 5, 7)}
    return out


def harmonic_amps(values: Mapping[str, Any]) -> dict[str, float]:
    """Current harmonic content in A: the content rate (% of the fundamental) x the current."""
    return {f"h{h}_current_{p}_amps": float(values[f"h{h}_current_{p}"])
            * float(values[f"current_{p}"]) / 100 for p in "abc" for h in (3, 5, 7)}
