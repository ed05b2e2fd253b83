"""One meter as the CSV and the API write it: field-by-field parsing with named errors.

The same parser serves the CSV import (10,000 rows, no query per row) and ``POST /api/meters/``,
so a meter is refused for the same reason whichever way it arrives. Only what can be checked
without the database is checked here; names of gateways and address clashes are the services'.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kpm37.metercode import MeterCodeError, decode_meter_code
from meters.choices import TransportKind
from meters.local_time import is_zone

REQUIRED_COLUMNS = ("code", "profile", "transport", "gateway", "address", "site", "tenant",
                    "labels", "ct_ratio", "pt_ratio")
OPTIONAL_COLUMNS = ("poll_interval_s", "timezone")  # may be left out of the header
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
POLL_INTERVAL_MIN, POLL_INTERVAL_MAX = 10, 86400
DEFAULT_PROFILE = "kpm37"
RATIO_MIN, RATIO_MAX = Decimal("0.1"), Decimal("6000.0")
NAME_MAX = 100
TRANSPORTS = frozenset(TransportKind.values)  # computed once: the enum builds it on each call
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


class RowErrors(dict[str, str]):
    """Reasons keyed by column name."""


@dataclass(frozen=True)
class MeterRow:
    """A meter's writable fields, parsed and normalised (names still unresolved)."""

    code: str
    profile: str
    transport: str
    gateway: str
    address: int | None
    site: str
    tenant: str
    labels: tuple[str, ...]
    ct_ratio: Decimal
    pt_ratio: Decimal
    poll_interval_s: int | None = None  # None: keep the meter's, or the default for a new one
    timezone: str = ""  # the site's IANA zone, for a site the import creates


def _text(raw: Mapping[str, Any], column: str) -> str:
    value = raw.get(column)
    return "" if value is None else str(value).strip()


def parse_code(value: str, errors: RowErrors) -> str:
    try:
        return decode_meter_code(value).code
    except MeterCodeError as exc:
        errors["code"] = exc.reason if value else "is required"
        return value


def parse_address(value: str, errors: RowErrors) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 247:
        errors["address"] = f"must be a whole number 1-247, got {value!r}"
        return None
    return int(value)


def parse_ratio(value: str, column: str, errors: RowErrors) -> Decimal:
    if not value:
        return Decimal("1.0")
    try:
        ratio = Decimal(value)
    except InvalidOperation:
        errors[column] = f"must be a number, got {value!r}"
        return Decimal("1.0")
    if not ratio.is_finite() or not RATIO_MIN <= ratio <= RATIO_MAX:
        errors[column] = f"must be between {RATIO_MIN} and {RATIO_MAX}, got {value!r}"
    elif ratio != ratio.quantize(Decimal("0.1")):
        errors[column] = f"has at most one decimal place, got {value!r}"
    return ratio


def parse_poll_interval(value: str, errors: RowErrors) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not POLL_INTERVAL_MIN <= int(value) <= POLL_INTERVAL_MAX:
        errors["poll_interval_s"] = (f"must be whole seconds {POLL_INTERVAL_MIN}-"
                                     f"{POLL_INTERVAL_MAX}, got {value!r}")
        return None
    return int(value)


def parse_timezone(value: str, site: str, errors: RowErrors) -> str:
    if not value:
        return ""
    if not is_zone(value):
        errors["timezone"] = (f"unknown time zone {value!r}; use an IANA name such as "
                              "Europe/Vienna, Asia/Shanghai or America/Chicago")
    elif not site:
        errors["timezone"] = "a time zone belongs to a site: give the site too"
    return value


def parse_labels(raw: Any, errors: RowErrors) -> tuple[str, ...]:
    """Labels as a list of names or one "a;b" string; each a slug."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").split(";")
    names = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    bad = [name for name in names if not _SLUG.match(name)]
    if bad:
        errors["labels"] = f"label names are letters, digits, '-' or '_' (max 50): {bad[0]!r}"
    return names


def parse_transport(value: str, gateway: str, errors: RowErrors) -> str:
    transport = value.lower() or (TransportKind.MODBUS if gateway else TransportKind.MQTT)
    if transport not in TRANSPORTS:
        errors["transport"] = f"must be one of {', '.join(TransportKind.values)}, got {value!r}"
    return transport


def check_transport_fields(row: MeterRow, errors: RowErrors) -> None:
    """A Modbus meter needs a gateway and address; an MQTT meter has neither."""
    if row.transport == TransportKind.MODBUS:
        if not row.gateway:
            errors.setdefault("gateway", "a Modbus meter needs a gateway")
        if row.address is None:
            errors.setdefault("address", "a Modbus meter needs an address (1-247)")
    elif row.transport == TransportKind.MQTT and row.gateway:
        errors.setdefault("gateway", "an MQTT meter does not use a gateway")


def check_names(row: MeterRow, errors: RowErrors) -> None:
    for column in ("site", "tenant"):
        if len(getattr(row, column)) > NAME_MAX:
            errors[column] = f"at most {NAME_MAX} characters"


def parse_meter_row(raw: Mapping[str, Any],
                    profiles: Collection[str]) -> tuple[MeterRow, RowErrors]:
    """Parse one row; ``profiles`` are the known profile names. Errors name each bad column."""
    errors = RowErrors()
    raw, nul_columns = _without_nul(raw)
    profile = _text(raw, "profile") or DEFAULT_PROFILE
    if profile not in profiles:
        errors["profile"] = f"unknown profile {profile!r}; known: {', '.join(sorted(profiles))}"
    gateway = _text(raw, "gateway")
    row = MeterRow(
        code=parse_code(_text(raw, "code").upper(), errors),
        profile=profile,
        transport=parse_transport(_text(raw, "transport"), gateway, errors),
        gateway=gateway,
        address=parse_address(_text(raw, "address"), errors),
        site=_text(raw, "site"),
        tenant=_text(raw, "tenant"),
        labels=parse_labels(raw.get("labels"), errors),
        ct_ratio=parse_ratio(_text(raw, "ct_ratio"), "ct_ratio", errors),
        pt_ratio=parse_ratio(_text(raw, "pt_ratio"), "pt_ratio", errors),
        poll_interval_s=parse_poll_interval(_text(raw, "poll_interval_s"), errors),
        timezone=parse_timezone(_text(raw, "timezone"), _text(raw, "site"), errors),
    )
    check_transport_fields(row, errors)
    check_names(row, errors)
    for column in nul_columns:
        errors[column] = "contains a NUL byte (0x00), which is not text"
    return row, errors


def _without_nul(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``raw`` with NUL-bearing text blanked, and those columns: PostgreSQL cannot store or
    even compare a NUL byte, so such a value must never reach a query."""
    bad = [name for name, value in raw.items() if isinstance(value, str) and "\x00" in value]
    return {**raw, **dict.fromkeys(bad, "")}, bad
