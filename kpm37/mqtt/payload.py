"""Parsing received V1.9 payloads into typed messages, and the meter-local time format.

Real meters send lower- or upper-case tags, tags the document does not list, numbers as JSON
numbers or strings, all-zero messages and clocks years in the past. Parsing accepts all of
that; only what makes a message unusable (no JSON object, no id, no readable time, a value
that is not a number) raises :class:`PayloadError`.

A payload is hostile input: whatever it holds (nesting thousands deep, numbers of thousands of
digits, years 1 or 9999, tens of thousands of tags) parsing either returns a message or raises
PayloadError, never anything else, and no error message repeats more than a short excerpt.
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
MAX_TAGS = 1024  # per packet; the KPM37's richest message has about a hundred
MAX_INTEGER_DIGITS = 30  # a meter's counter has ~10; Python refuses > 4,300 with a ValueError
MAX_MAGNITUDE = 1e15  # beyond any meter quantity; keeps sums and products finite downstream
MAX_HEX_DIGITS = 8  # DI/DO bit fields of MQTT_TELEIND

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


def excerpt(value: object, limit: int = 60) -> str:
    """A short, safe description of a payload value for an error message.

    Containers are named, never printed (a repr of a list nested a thousand deep recurses, and
    a 1 MB string must not be copied into the reason as well as the payload)."""
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {value.bit_length() * 30103 // 100000 + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def parse_time(text: object, field_name: str = "time") -> datetime:
    """``"20260117211500"`` -> naive ``datetime(2026, 1, 17, 21, 15)``."""
    if not isinstance(text, str) or len(text) != 14 or not (text.isascii() and text.isdigit()):
        raise PayloadError(field_name, f"expected yyyyMMddHHmmss, got {excerpt(text)}")
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
    try:
        return local.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 east of UTC, year 9999 west of it
        raise PayloadError("time", f"{format_time(local)} in {tz} is outside the years "
                                   "UTC can represent") from None


def decode_object(payload: bytes | str) -> dict[str, object]:
    """Decode a JSON object payload; PayloadError if it is not one."""
    try:
        data = json.loads(payload, parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("payload", f"not valid JSON ({exc})") from None
    except RecursionError:
        raise PayloadError("payload", "JSON nested too deeply") from None
    except PayloadError:
        raise
    except ValueError as exc:  # anything else json or int() refuses
        raise PayloadError("payload", f"not valid JSON ({excerpt(str(exc), 120)})") from None
    if not isinstance(data, dict):
        raise PayloadError("payload", f"expected a JSON object, got {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _bounded_int(text: str) -> int:
    """JSON integers: refuse absurd digit counts before int() spends time on them."""
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise PayloadError("payload", f"a number of {len(text)} digits (at most "
                                      f"{MAX_INTEGER_DIGITS} are accepted)")
    return int(text)


def to_number(tag: str, value: object) -> float:
    """A JSON number or numeric string -> float; PayloadError naming the tag otherwise.

    Refuses NaN, infinities and magnitudes above MAX_MAGNITUDE: no meter quantity comes near
    it, and downstream sums, scale factors and the database's JSON must stay finite."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(tag, f"not a number: {excerpt(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise PayloadError(tag, f"not a number: {excerpt(value)}") from None
    if not math.isfinite(number):
        raise PayloadError(tag, f"not a finite number: {excerpt(value)}")
    if abs(number) > MAX_MAGNITUDE:
        raise PayloadError(tag, f"out of range: {excerpt(value)} (limit {MAX_MAGNITUDE:g})")
    return number


def _teleind_values(value: object) -> dict[str, float]:
    """``"00000003@00000001"`` (DI bits @ DO bits, hex) -> di_state, do_state."""
    if not isinstance(value, str):
        raise PayloadError("value", f"expected DI@DO hex bits, got {excerpt(value)}")
    di, sep, do = value.partition("@")
    try:
        if not sep or len(di) > MAX_HEX_DIGITS or len(do) > MAX_HEX_DIGITS:
            raise ValueError(value)
        return {"di_state": float(int(di, 16)), "do_state": float(int(do, 16))}
    except ValueError:
        raise PayloadError("value", f"expected DI@DO hex bits, got {excerpt(value)}") from None


def _tag_values(topic: str, data: dict[str, object]) -> dict[str, float]:
    if len(data) > MAX_TAGS:
        raise PayloadError("payload", f"{len(data)} tags; at most {MAX_TAGS} are accepted")
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


def _isend(value: object) -> str | None:
    """The packet's ``isend`` flag as text ("0"/"1"); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > 8:
        raise PayloadError("isend", f"expected \"0\" or \"1\", got {excerpt(value)}")
    return str(value)


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
    isend = _isend(lowered.get("isend"))
    quantities, unknown = split_known(topic, _tag_values(topic, data), mapping)
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    return MqttMessage(
        topic=topic,
        meter_code=code,
        time=local,
        isend=isend,
        quantities=quantities,
        unknown=unknown,
        raw=(raw,),
    )
