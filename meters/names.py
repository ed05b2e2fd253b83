"""What a person reads for a quantity: its label, unit, and value at the meter's resolution.

Labels and units come from the platform's quantity vocabulary (which the profiles map onto), so
no page, alarm text or export shows a canonical name such as ``import_active_energy_r1``.
Values are rounded to the resolution the meter displays (KPM33B manual, the KPM37's sibling:
0.1 V, 0.001 A; energies at the 0.001 kWh that MQTT sends), so float32 noise such as
220.52664184570312 never shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kpm37.quantities import QUANTITIES, Rate

DECIMALS_BY_UNIT = {"V": 1, "A": 3, "kW": 3, "kvar": 3, "kVA": 3, "": 3, "Hz": 2, "%": 1,
                    "mA": 0, "°C": 1, "kWh": 3, "kvarh": 3}
STATE_DECIMALS = 0
RATE_NAMES = {f"r{r.value}": r.label for r in Rate}


def label(name: str) -> str:
    """The quantity's human label; an unknown tag is shown as words, never snake_case."""
    quantity = QUANTITIES.get(name)
    if quantity is not None:
        return quantity.label
    return name.replace("_", " ").strip().capitalize() or name


def unit(name: str) -> str:
    quantity = QUANTITIES.get(name)
    return quantity.unit if quantity is not None else ""


def decimals(name: str) -> int:
    quantity = QUANTITIES.get(name)
    if quantity is None:
        return 3
    if quantity.kind == "state":
        return STATE_DECIMALS
    return DECIMALS_BY_UNIT.get(quantity.unit, 3)


def rounded(name: str, value: Any) -> Any:
    """``value`` at the quantity's display resolution (non-numbers returned as they are)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    places = decimals(name)
    return round(float(value), places) if places else round(float(value))


def reading_text(name: str, value: Any) -> str:
    """``220.5 V``: a value as a person reads it, at the meter's resolution, with its unit."""
    number = rounded(name, value)
    text = f"{number:.{decimals(name)}f}" if isinstance(number, float) else str(number)
    return f"{text} {unit(name)}".strip()


def as_moment(name: str, value: Any) -> datetime | None:
    """A quantity that is a point in time (``*_at``, seconds since 1970 UTC) as a datetime."""
    if not name.endswith("_at") or unit(name) != "s" or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC) if value > 0 else None
    except (OverflowError, OSError, ValueError):
        return None


def rate_of(name: str) -> str | None:
    """The tariff rate a per-rate counter belongs to ("sharp" ... "deep valley"), else None."""
    suffix = name.rsplit("_", 1)[-1]
    return RATE_NAMES.get(suffix) if name in QUANTITIES else None


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def counters_text(changes: dict[str, tuple[float, float]], shown: int = 3) -> str:
    """``Import active energy 3152.200 kWh -> 0.000 kWh, ... and 7 more``."""
    parts = [f"{label(n)} {reading_text(n, was)} -> {reading_text(n, now)}"
             for n, (was, now) in list(changes.items())[:shown]]
    more = len(changes) - shown
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")
