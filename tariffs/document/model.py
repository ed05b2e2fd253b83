"""A tariff plan as checked values, and its canonical JSON (the shape of the API and files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kpm37.tou import DaySlot, TariffSet, TouProgram, ZoneEntry


@dataclass(frozen=True)
class PriceStep:
    """``price`` per kWh, valid from ``valid_from`` (None: from the start) until the next step."""

    valid_from: date | None
    price: Decimal


@dataclass(frozen=True)
class RateSpec:
    """A rate in use: its number 1-5, its name and its prices over time (ascending)."""

    number: int
    name: str
    prices: tuple[PriceStep, ...]

    def price_on(self, day: date) -> Decimal:
        """The price that applies on ``day``."""
        current = self.prices[0].price
        for step in self.prices[1:]:
            if step.valid_from is not None and step.valid_from <= day:
                current = step.price
        return current


@dataclass
class PlanDocument:
    """A valid plan. Times in the sets and the switch-overs are meter-local wall-clock times."""

    name: str
    currency: str
    billing_day: int
    timezone: str
    profile: str
    note: str
    rates: dict[int, RateSpec]
    sets: tuple[TariffSet, TariffSet]
    switch_zones_at: datetime | None = None
    switch_day_tables_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def program(self) -> TouProgram:
        """The plan as the meter would hold it: set 0 active, set 1 standby until switch-over."""
        return TouProgram(set_a=self.sets[0], set_b=self.sets[1], active="a",
                          zone_switch_at=self.switch_zones_at,
                          day_switch_at=self.switch_day_tables_at)

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON document (decimals as strings, tables in order)."""
        return {
            "name": self.name, "currency": self.currency, "billing_day": self.billing_day,
            "timezone": self.timezone, "profile": self.profile, "note": self.note,
            "rates": {str(n): _rate_json(r) for n, r in sorted(self.rates.items())},
            "sets": [_set_json(s) for s in self.sets],
            "switch_zones_at": _moment(self.switch_zones_at),
            "switch_day_tables_at": _moment(self.switch_day_tables_at),
        }


def _rate_json(rate: RateSpec) -> dict[str, Any]:
    later = [{"valid_from": s.valid_from.isoformat() if s.valid_from else None,
              "price": str(s.price)} for s in rate.prices[1:]]
    return {"name": rate.name, "price": str(rate.prices[0].price), "later_prices": later}


def _set_json(tariff: TariffSet) -> dict[str, Any]:
    return {
        "zones": [{"start": zone_start(z), "day_table": z.day_table} for z in tariff.zones],
        "day_tables": {str(n): [{"start": slot_start(s), "rate": s.rate} for s in slots]
                       for n, slots in sorted(tariff.day_tables.items())},
    }


def zone_start(zone: ZoneEntry) -> str:
    return f"{zone.month:02d}-{zone.day:02d}"


def slot_start(slot: DaySlot) -> str:
    return f"{slot.hour:02d}:{slot.minute:02d}"


def _moment(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M") if value else None
