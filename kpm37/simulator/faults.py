"""Fault specifications for the simulator command line: ``--fault G:U:KIND[=VALUE]``.

``G:U:silent``, ``G:U:corrupt_crc``, ``G:U:wrong_unit``, ``G:U:slow_ms=300`` act on the meter at
address U behind gateway G; ``G:drop=N`` makes gateway G drop its connection on every N-th
request; ``mqtt:I:duplicate_messages`` / ``mqtt:I:zero_messages`` act on MQTT meter I.
"""

from __future__ import annotations

from dataclasses import dataclass

METER_FAULTS = ("silent", "corrupt_crc", "wrong_unit", "slow_ms")
MQTT_FAULTS = ("duplicate_messages", "zero_messages", "silent")


@dataclass(frozen=True)
class FaultSpec:
    """One parsed ``--fault``: where it applies and what it sets."""

    target: str  # "meter", "gateway" or "mqtt"
    index: int  # gateway number, or MQTT meter number
    unit: int  # meter address (0 for gateway faults and MQTT meters)
    kind: str
    value: int


def parse_fault(text: str) -> FaultSpec:
    """Parse one fault spec; raises ValueError naming what is wrong."""
    parts = text.split(":")
    if len(parts) == 2 and parts[1].startswith("drop="):
        return FaultSpec("gateway", _number(parts[0], "gateway"), 0, "drop",
                         _number(parts[1][5:], "drop"))
    if len(parts) != 3:
        raise ValueError(f"fault {text!r}: expected G:U:KIND[=VALUE], G:drop=N or mqtt:I:KIND")
    kind, _, raw_value = parts[2].partition("=")
    value = _number(raw_value, kind) if raw_value else 1
    if parts[0] == "mqtt":
        _check_kind(text, kind, MQTT_FAULTS)
        return FaultSpec("mqtt", _number(parts[1], "mqtt meter"), 0, kind, value)
    _check_kind(text, kind, METER_FAULTS)
    return FaultSpec("meter", _number(parts[0], "gateway"), _number(parts[1], "unit"), kind, value)


def _check_kind(text: str, kind: str, allowed: tuple[str, ...]) -> None:
    if kind not in allowed:
        raise ValueError(f"fault {text!r}: kind {kind!r} is not one of {', '.join(allowed)}")


def _number(raw: str, what: str) -> int:
    if not raw.isdigit():
        raise ValueError(f"fault {what}: {raw!r} is not a non-negative whole number")
    return int(raw)


def apply_meter_fault(faults: object, spec: FaultSpec) -> None:
    """Set ``spec`` on a meter's ``faults`` object."""
    setattr(faults, spec.kind, spec.value if spec.kind == "slow_ms" else bool(spec.value))
