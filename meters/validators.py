"""Field validators shared by models, forms, serializers and the CSV import."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError

from kpm37.metercode import MeterCodeError, decode_meter_code
from kpm37.profile import profile_names


def validate_meter_code(value: str) -> None:
    try:
        decode_meter_code(value)
    except MeterCodeError as exc:
        raise ValidationError(exc.reason, code="invalid_meter_code") from exc


def validate_profile_name(value: str) -> None:
    names = profile_names()
    if value not in names:
        raise ValidationError(f"unknown profile {value!r}; known: {', '.join(names)}",
                              code="unknown_profile")


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {value!r}", code="unknown_timezone") from exc
