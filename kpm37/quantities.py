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
    kind: str  # "measurement" | "energy" | "demand" | "state" | "temperature" | "harmonic"


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
    ]
    items += [Quantity(f"temperature_{t}", f"Temperature {t.upper()}", "°C", "temperature")
              for t in ("a", "b", "c", "n")]
    items += _energy("import", "active", "kWh") + _energy("export", "active", "kWh")
    items += _energy("import", "reactive", "kvarh") + _energy("export", "reactive", "kvarh")
    for ui, label in (("voltage", "Voltage"), ("current", "Current")):
        for p in "abc":
            items.append(Quantity(f"thd_{ui}_{p}", f"{label} THD {p.upper()}", "%", "harmonic"))
            for h in (3, 5, 7):
                items.append(Quantity(f"h{h}_{ui}_{p}", f"{label} H{h} {p.upper()}", "%",
                                      "harmonic"))
    items += [
        Quantity("di_state", "Digital inputs (bit 0 = DI1)", "", "state"),
        Quantity("do_state", "Relay outputs (bit 0 = DO1)", "", "state"),
    ]
    return {q.name: q for q in items}


QUANTITIES: dict[str, Quantity] = _build()

ENERGY_COUNTERS: tuple[str, ...] = tuple(n for n, q in QUANTITIES.items() if q.kind == "energy")
"""Counters that must never go backwards (except on a recorded energy reset)."""


def rate_counter(direction: str, rate: Rate | int, reactive: bool = False) -> str:
    """Name of the per-rate counter, e.g. ``rate_counter("import", Rate.PEAK)``."""
    kind_of = "reactive" if reactive else "active"
    return f"{direction}_{kind_of}_energy_r{int(rate)}"
