"""Checks that turn raw profile YAML entries into :class:`Register` and :class:`ReadBlock`.

Each check names the field and the reason, so a broken profile fails loudly when it is loaded,
never later on the wire.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from kpm37.errors import ProfileError
from kpm37.profile_model import (
    ACCESS,
    TABLES,
    TYPE_WORDS,
    PasswordRule,
    ReadBlock,
    Register,
    TouSizes,
)
from kpm37.quantities import QUANTITIES, unit_factor

# Registers in these groups carry readings and must use the platform's canonical names.
CANONICAL_GROUPS = ("measurement", "energy")
MQTT_TOPICS = ("MQTT_RT_DATA", "MQTT_ENY_NOW", "MQTT_DAY_DATA", "MQTT_RECALL_REP")
_REGISTER_KEYS = {
    "name", "address", "table", "type", "words", "word_order", "scale", "unit", "access",
    "group", "minimum", "maximum", "choices", "default", "label", "source",
}


def int_field(value: Any, what: str) -> int:
    """``value`` if it is a whole number (not a bool), else a ProfileError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(f"{what}: {value!r} is not an integer")
    return value


def make_register(raw: dict[str, Any], defaults: dict[str, Any]) -> Register:
    """One checked register from an expanded entry, with the file's ``defaults`` under it."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"register entry {raw!r} has no name")
    fields = {**defaults, **raw}
    unknown = set(fields) - _REGISTER_KEYS
    if unknown:
        raise ProfileError(f"register {name!r}: unknown keys {sorted(unknown)}")
    try:
        return _checked_register(name, fields)
    except ProfileError as exc:
        raise ProfileError(f"register {name!r}: {exc}") from None


def _checked_register(name: str, f: dict[str, Any]) -> Register:
    address, table, rtype, words = _placement(f)
    minimum, maximum = _limits(f)
    quantity = QUANTITIES.get(name)
    group = str(f.get("group", "measurement"))
    if group in CANONICAL_GROUPS and quantity is None:
        raise ProfileError(f"unknown quantity name for group {group!r} "
                           "(see kpm37/quantities.py)")
    if quantity is not None:
        _check_unit(f, quantity.unit)
    return Register(
        name=name, address=address, table=table, type=rtype, words=words,
        word_order=_one_of(f.get("word_order", "big"), ("big", "little"), "word_order"),
        scale=_scale(f.get("scale", 1.0)),
        unit=str(f.get("unit") if f.get("unit") is not None else (quantity.unit if quantity
                                                                    else "")),
        access=_one_of(f.get("access", "r"), ACCESS, "access"), group=group,
        minimum=minimum, maximum=maximum, choices=_choices(f.get("choices")),
        default=f.get("default"),
        label=str(f.get("label") or (quantity.label if quantity else name.replace("_", " "))),
        source=str(f.get("source", "assumed")),
    )


def _check_unit(f: dict[str, Any], platform_unit: str) -> None:
    """A canonical register's ``unit`` is what the meter serves; ``scale`` must carry it into
    the platform's unit (0.001 from W to kW), or a real meter would read a thousand times off."""
    unit = f.get("unit")
    if unit is None:
        return
    try:
        factor = unit_factor(str(unit), platform_unit)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    scale = float(f.get("scale", 1.0))
    if abs(scale - factor) > 1e-12 * max(1.0, abs(factor)):
        raise ProfileError(f"unit {unit} needs scale {factor:g} into {platform_unit}, "
                           f"got {scale:g}")


def make_password_rule(data: Mapping[str, Any]) -> PasswordRule:
    """The ``password`` section (or the older top-level keys) as one checked rule."""
    raw = data.get("password")
    if raw is None:  # older files: password_register / password_first / protected_groups
        first = bool(data.get("password_first", False))
        return PasswordRule(
            register=data.get("password_register"),
            rule="first_in_write" if first else "unlock", unlock_seconds=0 if first else 60,
            protected_groups=tuple(data.get("protected_groups")
                                   or ("parameter", "relay", "tou")))
    if not isinstance(raw, dict):
        raise ProfileError("password: must be a mapping (register, rule, source, ...)")
    rule = _one_of(raw.get("rule"), ("first_in_write", "unlock"), "password rule")
    seconds = int_field(raw.get("unlock_seconds", 0), "password unlock_seconds")
    if (rule == "unlock") != (seconds > 0):
        raise ProfileError("password: unlock_seconds > 0 goes with rule unlock, and only there")
    if not raw.get("source"):
        raise ProfileError("password: say which source the rule follows (source)")
    register = raw.get("register")
    return PasswordRule(
        register=None if register is None else str(register), rule=rule,
        unlock_seconds=seconds,
        protected_groups=tuple(raw.get("protected_groups") or ("parameter", "relay", "tou")),
        source=str(raw["source"]))


def make_tou_sizes(raw: Any) -> TouSizes | None:
    """The ``tou_sizes`` section: positive table sizes and their source."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("source"):
        raise ProfileError("tou_sizes: a mapping with zones, day_tables, periods_per_day, "
                           "rates and source")
    sizes = {k: int_field(raw.get(k), f"tou_sizes {k}")
             for k in ("zones", "day_tables", "periods_per_day", "rates")}
    if any(v < 1 for v in sizes.values()) or sizes["rates"] > 5:
        raise ProfileError(f"tou_sizes: sizes must be positive and rates at most 5: {sizes}")
    return TouSizes(**sizes, source=str(raw["source"]))


def _placement(f: dict[str, Any]) -> tuple[int, str, str, int]:
    """(address, table, type, words) of a register entry, checked to fit the address space."""
    address = int_field(f.get("address"), "address")
    if not 0 <= address <= 0xFFFF:
        raise ProfileError(f"address {address} is outside 0..65535")
    table = _one_of(f.get("table", "holding"), TABLES, "table")
    rtype = _one_of(f.get("type", "bit" if table == "coil" else "u16"), tuple(TYPE_WORDS), "type")
    words = _words_for(rtype, table, f.get("words"))
    if address + words > 0x10000:
        raise ProfileError(f"words run past address 65535 (address {address}, {words} words)")
    return address, table, rtype, words


def _limits(f: dict[str, Any]) -> tuple[float | None, float | None]:
    minimum, maximum = _opt_float(f.get("minimum"), "minimum"), _opt_float(f.get("maximum"),
                                                                            "maximum")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ProfileError(f"minimum {minimum} is greater than maximum {maximum}")
    return minimum, maximum


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ProfileError(f"unknown {what} {value!r} (allowed: {', '.join(allowed)})")
    return str(value)


def _words_for(rtype: str, table: str, words: Any) -> int:
    expected = TYPE_WORDS[rtype]
    if (table == "coil") != (rtype == "bit"):
        raise ProfileError(f"type {rtype!r} does not fit table {table!r} (coils are type bit)")
    if words is None:
        if expected is None:
            raise ProfileError(f"type {rtype!r} needs an explicit words count")
        return int(expected)
    count = int_field(words, "words")
    if (expected is not None and count != expected) or count < 1:
        raise ProfileError(f"words {count} does not match type {rtype!r}"
                           + (f" (needs {expected})" if expected else ""))
    return count


def _opt_float(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{what} {value!r} is not a number")
    return float(value)


def _scale(value: Any) -> float:
    scale = _opt_float(value, "scale")
    if not scale:
        raise ProfileError(f"scale {value!r} must be a non-zero number")
    return scale


def _choices(value: Any) -> dict[int, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ProfileError(f"choices {value!r} must be a non-empty mapping code -> label")
    return {int_field(k, "choice code"): str(v) for k, v in value.items()}


def make_block(raw: Any) -> ReadBlock:
    """One checked read block from a ``{table, start, end}`` entry."""
    if not isinstance(raw, dict):
        raise ProfileError(f"read block {raw!r} must be a mapping with table, start, end")
    table = _one_of(raw.get("table", "holding"), TABLES, "read block table")
    start = int_field(raw.get("start"), "read block start")
    end = int_field(raw.get("end"), "read block end")
    if not 0 <= start < end <= 0x10000:
        raise ProfileError(f"read block {start:#06x}..{end:#06x} is empty or out of range")
    return ReadBlock(table, start, end)


def check_map(registers: list[Register], blocks: list[ReadBlock]) -> None:
    """The whole map: unique names, no overlaps, every readable register inside a read block."""
    seen: set[str] = set()
    for reg in registers:
        if reg.name in seen:
            raise ProfileError(f"register {reg.name!r}: duplicate name")
        seen.add(reg.name)
    for table in TABLES:
        ordered = sorted((r for r in registers if r.table == table), key=lambda r: r.address)
        for prev, cur in itertools.pairwise(ordered):
            if cur.address < prev.end:
                raise ProfileError(f"register {cur.name!r}: overlaps {prev.name!r} at address "
                                   f"{cur.address:#06x}")
    _check_blocks(registers, blocks)


def _check_blocks(registers: list[Register], blocks: list[ReadBlock]) -> None:
    ordered = sorted(blocks, key=lambda b: (b.table, b.start))
    for prev, cur in itertools.pairwise(ordered):
        if prev.table == cur.table and cur.start < prev.end:
            raise ProfileError(f"read blocks overlap at {cur.table} {cur.start:#06x}")
    for reg in registers:
        if reg.readable and not any(b.contains(reg.table, reg.address, reg.end) for b in blocks):
            raise ProfileError(f"register {reg.name!r}: readable but not inside any read block")


def check_mqtt(mqtt: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The MQTT schema: known topics, each tag mapped to a canonical quantity (tags lowercased)."""
    out: dict[str, dict[str, str]] = {}
    for topic, tags in mqtt.items():
        if topic not in MQTT_TOPICS:
            raise ProfileError(f"mqtt: unknown topic {topic!r} (allowed: {', '.join(MQTT_TOPICS)})")
        if not isinstance(tags, dict):
            raise ProfileError(f"mqtt {topic}: must map tags to quantity names")
        for tag, quantity in tags.items():
            if quantity not in QUANTITIES:
                raise ProfileError(f"mqtt {topic}: tag {tag!r} maps to unknown quantity "
                                   f"{quantity!r}")
        out[str(topic)] = {str(tag).lower(): str(q) for tag, q in tags.items()}
    return out


def check_mqtt_scale(scales: Mapping[str, Any]) -> dict[str, float]:
    """Per-tag factors from the V1.9 unit to the quantity's unit: positive numbers."""
    out: dict[str, float] = {}
    for tag, factor in scales.items():
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise ProfileError(f"mqtt_scale {tag!r}: factor must be a positive number, "
                               f"got {factor!r}")
        out[str(tag).lower()] = float(factor)
    return out
