"""Parsing received V1.9 payloads into typed messages, and the meter-local time format.

Real meters send lower- or upper-case tags, tags the document does not list, numbers as JSON
numbers or strings, all-zero messages and clocks years in the past. Parsing accepts all of
that; only what makes a message unusable (no JSON object, no id, no readable time, a value
that is not a number) raises :class:`PayloadError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.topics import TELEIND, validate_code

TIME_FORMAT = "%Y%m%d%H%M%S"
ENVELOPE_TAGS = frozenset({"id", "time", "isend"})

TagMapping = Mapping[str, Mapping[str, str]]
"""A profile's ``mqtt`` section: topic -> {lower-case tag -> canonical quantity name}."""


@dataclass(frozen=True)
class MqttMessage:
    """One telemetry message (or a reassembled run of packets) from one meter."""

    topic: str
    meter_code: str
    time: datetime  # naive, in the meter's own local clock
    isend: str | None
    quantities: dict[str, float]  # canonical name -> value, via the profile mapping
    unknown: dict[str, float]  # lower-case tags the mapping does not know
    raw: tuple[bytes, ...] = field(default=(), repr=False)  # packets as received: evidence

    @property
    def is_last_packet(self) -> bool:
        """True if the meter marked this packet as the last of its message."""
        return self.isend == "1"

    @property
    def is_all_zero(self) -> bool:
        """True for the all-zero messages real meters send among real ones."""
        values = [*self.quantities.values(), *self.unknown.values()]
        return bool(values) and all(v == 0 for v in values)


def parse_time(text: object, field_name: str = "time") -> datetime:
    """``"20260117211500"`` -> naive ``datetime(2026, 1, 17, 21, 15)``."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        raise PayloadError(field_name, f"expected yyyyMMddHHmmss, got {text!r}")
    try:
        return datetime.strptime(text, TIME_FORMAT)  # noqa: DTZ007 - meter-local by design
    except ValueError as exc:
        raise PayloadError(field_name, f"not a calendar time: {text!r} ({exc})") from None


def format_time(local: datetime) -> str:
    """Naive meter-local datetime -> ``yyyyMMddHHmmss``."""
    return local.strftime(TIME_FORMAT)


def to_utc(local: datetime, tz: str) -> datetime:
    """Convert a naive meter-local time to an aware UTC datetime, in the meter's time zone."""
    if local.tzinfo is not None:
        raise PayloadError("time", "expected a naive meter-local time")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise PayloadError("timezone", f"unknown time zone {tz!r}") from None
    return local.replace(tzinfo=zone).astimezone(UTC)


def decode_object(payload: bytes | str) -> dict[str, object]:
    """Decode a JSON object payload; PayloadError if it is not one."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("payload", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError("payload", f"expected a JSON object, got {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def to_number(tag: str, value: object) -> float:
    """A JSON number or numeric string -> float; PayloadError naming the tag otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(tag, f"not a number: {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(tag, f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise PayloadError(tag, f"not a finite number: {value!r}")
    return number


def _teleind_values(value: object) -> dict[str, float]:
    """``"00000003@00000001"`` (DI bits @ DO bits, hex) -> di_state, do_state."""
    text = str(value)
    di, sep, do = text.partition("@")
    try:
        if not sep:
            raise ValueError(text)
        return {"di_state": float(int(di, 16)), "do_state": float(int(do, 16))}
    except ValueError:
        raise PayloadError("value", f"expected DI@DO hex bits, got {text!r}") from None


def _tag_values(topic: str, data: dict[str, object]) -> dict[str, float]:
    values: dict[str, float] = {}
    for key, value in data.items():
        tag = key.lower()
        if tag in ENVELOPE_TAGS:
            continue
        if topic == TELEIND and tag == "value":
            values.update(_teleind_values(value))
        else:
            values[tag] = to_number(tag, value)
    return values


def split_known(
    topic: str, values: Mapping[str, float], mapping: TagMapping | None,
    scale: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Split tag values into (canonical quantities, unknown tags) through the mapping; a tag
    with a factor in ``scale`` (the profile's mqtt_scale) is converted to the quantity's unit."""
    known = {t.lower(): name for t, name in (mapping or {}).get(topic, {}).items()}
    if topic == TELEIND:
        known.setdefault("di_state", "di_state")
        known.setdefault("do_state", "do_state")
    factors = scale or {}
    quantities = {known[t]: v * factors.get(t, 1.0) for t, v in values.items() if t in known}
    unknown = {t: v for t, v in values.items() if t not in known}
    return quantities, unknown


def parse_message(
    payload: bytes | str, topic: str, mapping: TagMapping | None = None
) -> MqttMessage:
    """Parse one received telemetry packet. Raises PayloadError naming the bad field."""
    data = decode_object(payload)
    lowered = {k.lower(): v for k, v in data.items()}
    if "id" not in lowered:
        raise PayloadError("id", "missing")
    code = validate_code(lowered["id"])
    if "time" not in lowered:
        raise PayloadError("time", "missing")
    local = parse_time(lowered["time"])
    isend = lowered.get("isend")
    quantities, unknown = split_known(topic, _tag_values(topic, data), mapping)
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    return MqttMessage(
        topic=topic,
        meter_code=code,
        time=local,
        isend=None if isend is None else str(isend),
        quantities=quantities,
        unknown=unknown,
        raw=(raw,),
    )
