"""Check an untrusted plan document and build a :class:`PlanDocument`, naming every problem's
place the way the JSON spells it (``sets[0].day_tables.2[3].start``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kpm37.errors import ProfileError
from kpm37.profile import Profile, TouSizes, load_profile, profile_names
from kpm37.quantities import Rate
from kpm37.tou import TariffSet
from tariffs.document import fields
from tariffs.document.fields import FieldError
from tariffs.document.limits import MAX_DEPTH, MAX_ERRORS, value_depth
from tariffs.document.model import PlanDocument, PriceStep, RateSpec
from tariffs.document.tables import read_set
from tariffs.sizes import tou_sizes

T = TypeVar("T")
ROOT_FIELDS = ("name", "currency", "billing_day", "timezone", "profile", "note", "rates",
               "sets", "switch_zones_at", "switch_day_tables_at")
REQUIRED = ("name", "currency", "billing_day", "rates", "sets")
DEFAULT_PROFILE = "kpm37"
DEFAULT_TIMEZONE = "UTC"
MAX_LATER_PRICES = 24
RATE_NUMBERS = tuple(int(r) for r in Rate)


@dataclass
class ParseResult:
    """The plan if it is valid; else every problem as (place, reason). ``sets`` keeps what
    could be read of each set either way, so an editor can still draw it."""

    document: PlanDocument | None
    errors: list[tuple[str, str]]
    sets: list[TariffSet] = field(default_factory=list)

    @property
    def error_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for place, reason in self.errors:
            out.setdefault(place, []).append(reason)
        return out


def parse_plan(data: Any) -> ParseResult:
    """Check ``data`` (parsed JSON) as a tariff plan."""
    return _Reader().plan(data)


class _Reader:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.declared: set[int] = set()

    def fail(self, place: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((place, reason))

    def read(self, place: str, reader: Callable[..., T], value: Any, *args: Any,
             **kwargs: Any) -> T | None:
        try:
            return reader(value, *args, **kwargs)
        except FieldError as exc:
            self.fail(place, str(exc))
            return None

    def obj(self, place: str, value: Any, known: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(place or "document", f"must be an object, got {fields.shown(value)}")
            return None
        for key in value:
            if key not in known:
                self.fail(f"{place}.{key}" if place else str(key), "unknown field")
        return value

    def plan(self, data: Any) -> ParseResult:
        if value_depth(data) > MAX_DEPTH:
            self.fail("document", f"nested deeper than a plan can be ({MAX_DEPTH})")
            return ParseResult(None, self.errors)
        root = self.obj("", data, ROOT_FIELDS)
        if root is None:
            return ParseResult(None, self.errors)
        for key in REQUIRED:
            if key not in root:
                self.fail(key, "this field is required")
        profile = self.read("profile", _profile, root.get("profile", DEFAULT_PROFILE))
        sizes = self.sizes(load_profile(profile or DEFAULT_PROFILE))
        head = {
            "name": self.read("name", fields.text, root.get("name", "")),
            "currency": self.read("currency", fields.currency, root.get("currency", "")),
            "billing_day": self.read("billing_day", fields.integer,
                                     root.get("billing_day", 1), 1, 28),
            "timezone": self.read("timezone", fields.timezone,
                                  root.get("timezone", DEFAULT_TIMEZONE)),
            "note": self.read("note", fields.text, root.get("note", ""), max_length=2000,
                              multiline=True),
        }
        if head["name"] == "":
            self.fail("name", "a plan needs a name")
        rates = self.rates(root.get("rates", {}), sizes.rates)
        sets = self.sets(root.get("sets", []), rates, sizes)
        switches = {key: self.read(key, fields.moment, root.get(key)) for key in
                    ("switch_zones_at", "switch_day_tables_at")}
        if self.errors or rates is None or len(sets) != 2:
            return ParseResult(None, self.errors, sets)
        document = PlanDocument(profile=profile or DEFAULT_PROFILE, rates=rates,
                                sets=(sets[0], sets[1]), **head, **switches)  # type: ignore[arg-type]
        return ParseResult(document, [], sets)

    def sizes(self, profile: Profile) -> TouSizes:
        try:
            return tou_sizes(profile)
        except ProfileError as exc:
            self.fail("profile", f"{profile.name} meters have no TOU tables ({exc})")
            return tou_sizes(load_profile(DEFAULT_PROFILE))

    def rates(self, value: Any, most: int) -> dict[int, RateSpec] | None:
        if not isinstance(value, dict) or not value:
            self.fail("rates", "needs at least one rate, as {\"2\": {\"name\", \"price\"}}")
            return None
        rates: dict[int, RateSpec] = {}
        for key, spec in value.items():
            place = f"rates.{key}"
            number = (int(key) if isinstance(key, str) and key.isascii() and key.isdigit()
                      and len(key) < 3 else 0)
            if number not in RATE_NUMBERS:
                self.fail(place, f"rate {fields.shown(key)} is outside 1-5 "
                                 "(1 sharp, 2 peak, 3 flat, 4 valley, 5 deep valley)")
                continue
            if number > most:
                self.fail(place, f"rate {number} is beyond this profile's {most} rates")
                continue
            self.declared.add(number)
            rate = self.rate(place, number, spec)
            if rate is not None:
                rates[number] = rate
        return rates

    def rate(self, place: str, number: int, value: Any) -> RateSpec | None:
        spec = self.obj(place, value, ("name", "price", "later_prices"))
        if spec is None:
            return None
        if "price" not in spec:
            self.fail(f"{place}.price", "this field is required")
        name = self.read(f"{place}.name", fields.text,
                         spec.get("name", Rate(number).label), max_length=40)
        first = self.read(f"{place}.price", fields.price, spec.get("price", "0"))
        later = self.later_prices(f"{place}.later_prices", spec.get("later_prices", []))
        if name is None or first is None or later is None:
            return None
        return RateSpec(number, name or Rate(number).label, (PriceStep(None, first), *later))

    def later_prices(self, place: str, value: Any) -> list[PriceStep] | None:
        if not isinstance(value, list) or len(value) > MAX_LATER_PRICES:
            self.fail(place, f"must be a list of at most {MAX_LATER_PRICES} "
                             "{\"valid_from\", \"price\"}")
            return None
        steps: list[PriceStep] = []
        for i, item in enumerate(value):
            at = f"{place}[{i}]"
            entry = self.obj(at, item, ("valid_from", "price"))
            if entry is None:
                continue
            start = self.read(f"{at}.valid_from", fields.calendar_date, entry.get("valid_from"))
            amount = self.read(f"{at}.price", fields.price, entry.get("price"))
            if start and steps and steps[-1].valid_from and start <= steps[-1].valid_from:
                self.fail(f"{at}.valid_from", f"{start} must come after "
                                              f"{steps[-1].valid_from}")
            elif start is not None and amount is not None:
                steps.append(PriceStep(start, amount))
        return steps

    def sets(self, value: Any, rates: dict[int, RateSpec] | None,
             sizes: TouSizes) -> list[TariffSet]:
        if not isinstance(value, list) or len(value) != 2:
            self.fail("sets", "must be a list of two sets: the active set, then the standby")
            return []
        declared = None if rates is None else self.declared
        return [read_set(self, f"sets[{i}]", item, declared, sizes)
                for i, item in enumerate(value)]


def _profile(value: Any) -> str:
    if not isinstance(value, str) or value not in profile_names():
        raise FieldError(f"unknown profile {fields.shown(value)}; "
                         f"known: {', '.join(profile_names())}")
    return value

