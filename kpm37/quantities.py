"""The platform's vocabulary of measured quantities.

Every reading, whichever transport brought it (Modbus register, MQTT V1.9 field), is stored under
one of these canonical names. Profiles map their registers and MQTT tags onto them, so pages,
API, alarms and billing never see a register address or a pinyin tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Rate(IntEnum):
    """Time-of-use rates in the DL/T 645 order that Compere follows."""

    SHARP = 1
    PEAK = 2
    FLAT = 3
    VALLEY = 4
    DEEP_VALLEY = 5

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()


@dataclass(frozen=True)
class Quantity:
    """One measurable thing: its canonical name, a human label, unit and kind."""

    name: str
    label: str
    unit: str
    kind: str  # measurement | energy | demand | state | temperature | harmonic


def _phases(stem: str, label: str, unit: str, kind: str, total: str | None) -> list[Quantity]:
    items = [Quantity(f"{stem}_{p}", f"{label} {p.upper()}", unit, kind) for p in "abc"]
    if total:
        items.append(Quantity(f"{stem}_{total}", f"{label} {total}", unit, kind))
    return items


def _energy(direction: str, kind_of: str, unit: str) -> list[Quantity]:
    stem = f"{direction}_{kind_of}_energy"
    label = f"{direction.capitalize()} {kind_of} energy"
    items = [Quantity(stem, label, unit, "energy")]
    items += [Quantity(f"{stem}_r{r.value}", f"{label} ({r.label})", unit, "energy") for r in Rate]
    return items


def _build() -> dict[str, Quantity]:
    items: list[Quantity] = []
    items += _phases("voltage", "Voltage", "V", "measurement", None)
    items += [Quantity(f"voltage_{p}", f"Voltage {p.upper()}", "V", "measurement")
              for p in ("ab", "bc", "ca")]
    items += _phases("current", "Current", "A", "measurement", None)
    items += _phases("active_power", "Active power", "kW", "measurement", "total")
    items += _phases("reactive_power", "Reactive power", "kvar", "measurement", "total")
    items += _phases("apparent_power", "Apparent power", "kVA", "measurement", "total")
    items += _phases("power_factor", "Power factor", "", "measurement", "total")
    items += [
        Quantity("frequency", "Frequency", "Hz", "measurement"),
        Quantity("voltage_unbalance", "Voltage unbalance", "%", "measurement"),
        Quantity("current_unbalance", "Current unbalance", "%", "measurement"),
        Quantity("residual_current", "Residual current", "mA", "measurement"),
        Quantity("active_demand", "Active demand", "kW", "demand"),
        Quantity("reactive_demand", "Reactive demand", "kvar", "demand"),
        Quantity("apparent_demand", "Apparent demand", "kVA", "demand"),
        Quantity("max_active_demand", "Monthly max active demand", "kW", "demand"),
        Quantity("max_apparent_demand", "Monthly max apparent demand", "kVA", "demand"),
        # when the monthly maximum occurred, as V1.9 sends it: seconds since 1970 (UTC)
        Quantity("max_active_demand_at", "Monthly max active demand time", "s", "demand"),
        Quantity("max_apparent_demand_at", "Monthly max apparent demand time", "s", "demand"),
        Quantity("voltage_zero_sequence", "Zero-sequence voltage", "V", "measurement"),
        Quantity("voltage_positive_sequence", "Positive-sequence voltage", "V", "measurement"),
        Quantity("voltage_negative_sequence", "Negative-sequence voltage", "V", "measurement"),
        Quantity("current_zero_sequence", "Zero-sequence current", "A", "measurement"),
        Quantity("current_positive_sequence", "Positive-sequence current", "A", "measurement"),
        Quantity("current_negative_sequence", "Negative-sequence current", "A", "measurement"),
    ]
    items += _phases("angle_voltage", "Voltage phase angle", "°", "measurement", None)
    items += _phases("angle_current", "Current phase angle", "°", "measurement", None)
    items += _phases("apparent_demand", "Apparent demand", "kVA", "demand", None)
    items += _phases("current_demand", "Current demand", "A", "demand", None)
    items += [Quantity(f"temperature_{t}", f"Temperature {t.upper()}", "°C", "temperature")
              for t in ("a", "b", "c", "n")]
    items += _energy("import", "active", "kWh") + _energy("export", "active", "kWh")
    items += _energy("import", "reactive", "kvarh") + _energy("export", "reactive", "kvarh")
    # V1.9 sends a sixth tariff (zy6sz/fy6sz) that the five-rate meters leave at zero
    items += [Quantity(f"{d}_active_energy_r6", f"{d.capitalize()} active energy (tariff 6)",
                       "kWh", "energy") for d in ("import", "export")]
    items += [Quantity("total_active_energy", "Total active energy (import + export)", "kWh",
                       "energy"),
              Quantity("total_reactive_energy", "Total reactive energy (import + export)",
                       "kvarh", "energy"),
              Quantity("apparent_energy", "Apparent energy", "kVAh", "energy")]
    for d in ("import", "export"):
        for kind_of, unit in (("active", "kWh"), ("reactive", "kvarh")):
            items += _phases(f"{d}_{kind_of}_energy", f"{d.capitalize()} {kind_of} energy",
                             unit, "energy", None)
    for ui, label in (("voltage", "Voltage"), ("current", "Current")):
        for p in "abc":
            items.append(Quantity(f"thd_{ui}_{p}", f"{label} THD {p.upper()}", "%", "harmonic"))
            for h in (3, 5, 7):
                items.append(Quantity(f"h{h}_{ui}_{p}", f"{label} H{h} {p.upper()}", "%",
                                      "harmonic"))
    # V1.9's "current harmonic content" (iaxb3 ...) next to its content rate in % (iaxbl3)
    items += [Quantity(f"h{h}_current_{p}_amps", f"Current H{h} {p.upper()} content", "A",
                       "harmonic") for p in "abc" for h in (3, 5, 7)]
    items += [
        Quantity("di_state", "Digital inputs (bit 0 = DI1)", "", "state"),
        Quantity("do_state", "Relay outputs (bit 0 = DO1)", "", "state"),
    ]
    return {q.name: q for q in items}


QUANTITIES: dict[str, Quantity] = _build()

ENERGY_COUNTERS: tuple[str, ...] = tuple(n for n, q in QUANTITIES.items() if q.kind == "energy")
"""Counters that must never go backwards (except on a recorded energy reset)."""


_UNIT_STEPS: dict[tuple[str, str], float] = {
    ("W", "kW"): 1e-3, ("var", "kvar"): 1e-3, ("VA", "kVA"): 1e-3,
    ("Wh", "kWh"): 1e-3, ("varh", "kvarh"): 1e-3, ("VAh", "kVAh"): 1e-3,
    ("A", "mA"): 1e3, ("kV", "V"): 1e3, ("kA", "A"): 1e3,
}


def unit_factor(source: str, target: str) -> float:
    """What a value in ``source`` units is multiplied by to be in ``target`` units
    (``unit_factor("W", "kW") == 0.001``); ValueError when the two do not convert."""
    if source == target:
        return 1.0
    if (source, target) in _UNIT_STEPS:
        return _UNIT_STEPS[(source, target)]
    if (target, source) in _UNIT_STEPS:
        return 1.0 / _UNIT_STEPS[(target, source)]
    raise ValueError(f"unit {source!r} does not convert to {target!r}")


def rate_counter(direction: str, rate: Rate | int, reactive: bool = False) -> str:
    """Name of the per-rate counter, e.g. ``rate_counter("import", Rate.PEAK)``."""
    kind_of = "reactive" if reactive else "active"
    return f"{direction}_{kind_of}_energy_r{int(rate)}"
