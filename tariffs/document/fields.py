"""Readers for the plan's scalar fields; each returns the value or None after noting an error."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tariffs.document.limits import MAX_STRING

_TIME = re.compile(r"(\d\d):(\d\d)")
_ZONE_DATE = re.compile(r"(\d\d)-(\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_MOMENT = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)")
_TZ = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 Feb is a valid entry
MAX_PRICE = Decimal("1000000")
PRICE_PLACES = 6


class FieldError(ValueError):
    """A value that cannot be used, with the reason a person reads."""


def shown(value: Any) -> str:
    """A value as an error message quotes it: short, and safe for any input."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text(value: Any, *, max_length: int = 100, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise FieldError(f"must be text, got {shown(value)}")
    value = value.strip()
    allowed = "\n\t" if multiline else ""
    if any(ord(c) < 32 and c not in allowed for c in value) or "\x7f" in value:
        raise FieldError("must not contain control characters (NUL, line breaks ...)")
    if len(value) > min(max_length, MAX_STRING):
        raise FieldError(f"at most {max_length} characters, got {len(value)}")
    return value


def integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"must be a whole number {low}-{high}, got {shown(value)}")
    if not low <= value <= high:
        raise FieldError(f"{value} is outside {low}-{high}")
    return value


def time_of_day(value: Any) -> tuple[int, int]:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise FieldError(f"{shown(value)} is not a time hh:mm (00:00-23:59)")
    return int(match[1]), int(match[2])


def zone_date(value: Any) -> tuple[int, int]:
    match = _ZONE_DATE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise FieldError(f"{shown(value)} is not a date MM-DD")
    month, day = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 1 <= day <= DAYS_IN_MONTH[month - 1]:
        raise FieldError(f"{value} is not a day of the year (MM-DD)")
    return month, day


def calendar_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise FieldError(f"{shown(value)} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FieldError(f"{value} is not a date YYYY-MM-DD") from exc


def moment(value: Any) -> datetime | None:
    """A switch-over time, meter-local ``YYYY-MM-DDThh:mm``; the meter stores YYMMDDhhmm."""
    if value is None or value == "":
        return None
    match = _MOMENT.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise FieldError(f"{shown(value)} is not a local time YYYY-MM-DDThh:mm")
    try:
        day = date.fromisoformat(match[1])
    except ValueError as exc:
        raise FieldError(f"{value} is not a date and time YYYY-MM-DDThh:mm") from exc
    hour, minute = time_of_day(match[2])
    if not 2000 <= day.year <= 2099:
        raise FieldError("the meter stores the year as two digits: 2000-2099")
    return datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001 - meter local


def price(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"must be a decimal price such as \"0.6234\", got {shown(value)}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise FieldError(f"{shown(value)} is not a decimal price") from exc
    if not amount.is_finite():
        raise FieldError(f"{shown(value)} is not a decimal price")
    if amount < 0:
        raise FieldError(f"a price cannot be negative, got {value}")
    if amount >= MAX_PRICE:
        raise FieldError(f"{value} is not a plausible price per kWh (below {MAX_PRICE})")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > PRICE_PLACES:
        raise FieldError(f"at most {PRICE_PLACES} decimal places, got {value}")
    return amount


def currency(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise FieldError(f"{shown(value)} is not an ISO 4217 code such as CNY or EUR")
    return value


def timezone(value: Any) -> str:
    if not isinstance(value, str) or not _TZ.fullmatch(value):
        raise FieldError(f"{shown(value)} is not a time zone name such as Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise FieldError(f"unknown time zone {value!r}") from exc
    return value
