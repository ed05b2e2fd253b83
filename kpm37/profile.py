"""Device profiles: the meter's register map and MQTT schema, as data.

A profile is one YAML file under ``kpm37/profiles/``. The loader expands its compact constructs
(``run`` for consecutive registers, ``repeat`` for tables such as TOU entries and history), then
checks the whole map so a broken file fails loudly with the register name and the reason,
never later on the wire. Codec, planner and simulator read only :class:`Profile`.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from kpm37.errors import ProfileError
from kpm37.quantities import QUANTITIES

PROFILE_DIR = Path(__file__).parent / "profiles"

TYPE_WORDS: dict[str, int | None] = {
    "u16": 1, "s16": 1, "u32": 2, "s32": 2, "float32": 2, "bcd_clock": 3, "bit": 1,
    "ascii": None,  # any positive number of words
}
TABLES = ("holding", "coil")
ACCESS = ("r", "rw", "w")
# Registers in these groups carry readings and must use the platform's canonical names.
CANONICAL_GROUPS = ("measurement", "energy")
MQTT_TOPICS = ("MQTT_RT_DATA", "MQTT_ENY_NOW", "MQTT_DAY_DATA", "MQTT_RECALL_REP")
_REGISTER_KEYS = {
    "name", "address", "table", "type", "words", "word_order", "scale", "unit", "access",
    "group", "minimum", "maximum", "choices", "default", "label", "source",
}


@dataclass(frozen=True)
class Register:
    """One value in the meter's address space (a run of 16-bit words, or one coil bit)."""

    name: str
    address: int
    table: str = "holding"
    type: str = "u16"
    words: int = 1
    word_order: str = "big"
    scale: float = 1.0
    unit: str = ""
    access: str = "r"
    group: str = "measurement"
    minimum: float | None = None
    maximum: float | None = None
    choices: dict[int, str] | None = field(default=None, hash=False)
    default: Any = None
    label: str = ""
    source: str = "assumed"

    @property
    def end(self) -> int:
        """First address after this register."""
        return self.address + self.words

    @property
    def readable(self) -> bool:
        return "r" in self.access

    @property
    def writable(self) -> bool:
        return "w" in self.access


class ReadBlock(NamedTuple):
    """An address range ``[start, end)`` (end exclusive) in which the meter answers a read of
    any address. A plain tuple ``(table, start, end)`` as far as callers are concerned."""

    table: str
    start: int
    end: int

    def contains(self, table: str, start: int, end: int) -> bool:
        return table == self.table and self.start <= start and end <= self.end


class Profile:
    """A validated register map plus the meter's protocol rules. Build with :func:`load_profile`."""

    def __init__(self, *, name: str, model: str, description: str, source_note: str,
                 registers: list[Register], read_blocks: list[ReadBlock],
                 password_register: str | None, password_first: bool,
                 protected_groups: tuple[str, ...], mqtt: dict[str, dict[str, str]],
                 max_read: int = 125, max_write: int = 123, max_coils: int = 2000) -> None:
        self.name = name
        self.model = model
        self.description = description
        self.source_note = source_note
        self.registers: tuple[Register, ...] = tuple(
            sorted(registers, key=lambda r: (TABLES.index(r.table), r.address)))
        self.read_blocks = sorted(read_blocks, key=lambda b: (TABLES.index(b.table), b.start))
        self.password_register = password_register
        self.password_first = password_first
        self.protected_groups = protected_groups
        self.mqtt = mqtt
        self.max_read = max_read
        self.max_write = max_write
        self.max_coils = max_coils
        self._by_name = {r.name: r for r in self.registers}
        self._by_start = {(r.table, r.address): r for r in self.registers}
        # Per-table address index: decoding a read frame bisects instead of scanning ~1,000.
        self._table_regs = {t: [r for r in self.registers if r.table == t] for t in TABLES}
        self._table_addrs = {t: [r.address for r in regs] for t, regs in self._table_regs.items()}

    def __repr__(self) -> str:
        return f"<Profile {self.name}: {len(self.registers)} registers>"

    def register(self, name: str) -> Register:
        """The register called ``name``; KeyError naming the profile if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no register named {name!r}") from None

    def has(self, name: str) -> bool:
        return name in self._by_name

    def register_at(self, table: str, address: int) -> Register | None:
        """The register that *starts* at ``address`` in ``table``, if any."""
        return self._by_start.get((table, address))

    def registers_within(self, table: str, start: int, end: int) -> list[Register]:
        """Registers of ``table`` lying entirely inside ``[start, end)``, in address order."""
        regs, addrs = self._table_regs.get(table, []), self._table_addrs.get(table, [])
        first = bisect.bisect_left(addrs, start)
        last = bisect.bisect_left(addrs, end)
        return [r for r in regs[first:last] if r.end <= end]

    def by_group(self, group: str) -> tuple[Register, ...]:
        return tuple(r for r in self.registers if r.group == group)

    def parameters(self) -> tuple[Register, ...]:
        """Settable configuration: rw holding registers of the parameter, relay and tou groups
        (relay coils are switched by operators, not configured, so they are left out)."""
        return tuple(r for r in self.registers if r.access == "rw" and r.table == "holding"
                     and r.group in ("parameter", "relay", "tou"))

    def is_protected(self, reg: Register) -> bool:
        """Whether writing ``reg`` needs the password first (see ``password_first``)."""
        return (self.password_register is not None and reg.writable
                and reg.name != self.password_register and reg.group in self.protected_groups)

    def block_of(self, table: str, start: int, end: int) -> ReadBlock | None:
        """The read block holding ``[start, end)`` entirely, or None."""
        for block in self.read_blocks:
            if block.contains(table, start, end):
                return block
        return None


def profile_names() -> list[str]:
    """Names of the profiles shipped in ``kpm37/profiles/``."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name (cached) or any profile file by path (not cached)."""
    if isinstance(name_or_path, Path) or str(name_or_path).endswith((".yaml", ".yml")):
        return _load_file(Path(name_or_path))
    return _load_named(str(name_or_path))


@cache
def _load_named(name: str) -> Profile:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ProfileError(f"profile name {name!r} may use only a-z, 0-9 and _")
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"no profile named {name!r}; shipped: {', '.join(profile_names())}")
    return _load_file(path)


def _load_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path.name}: cannot read profile: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path.name}: a profile must be a mapping at top level")
    try:
        return _build_profile(data)
    except ProfileError as exc:
        raise ProfileError(f"{path.name}: {exc}") from None


def _build_profile(data: dict[str, Any]) -> Profile:
    defaults = dict(data.get("defaults") or {})
    registers = [_make_register(raw, defaults) for raw in _expand(data.get("registers") or [])]
    blocks = [_make_block(raw) for raw in data.get("read_blocks") or []]
    _check_map(registers, blocks)
    password = data.get("password_register")
    names = {r.name for r in registers}
    if password is not None and password not in names:
        raise ProfileError(f"password_register {password!r} is not a register")
    return Profile(
        name=str(data.get("name", "")), model=str(data.get("model", "")),
        description=str(data.get("description", "")),
        source_note=str(data.get("source_note", "")),
        registers=registers, read_blocks=blocks, password_register=password,
        password_first=bool(data.get("password_first", False)),
        protected_groups=tuple(data.get("protected_groups") or ("parameter", "relay", "tou")),
        mqtt=_check_mqtt(data.get("mqtt") or {}),
        max_read=int(data.get("max_read", 125)), max_write=int(data.get("max_write", 123)),
    )


# --- expansion of the compact constructs -------------------------------------------------------

def _expand(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise ProfileError(f"register entry {item!r} is not a mapping")
        if "run" in item:
            out += _expand_run(item)
        elif "repeat" in item:
            out += _expand_repeat(item["repeat"])
        else:
            out.append(item)
    return out


def _expand_run(item: dict[str, Any]) -> list[dict[str, Any]]:
    """``{run: {start, type, ...}, names: [a, b, ...]}``: registers laid end to end."""
    common = dict(item["run"])
    address = _int_field(common.pop("start", None), "run start")
    out = []
    for name in item.get("names") or []:
        words = common.get("words") or TYPE_WORDS.get(str(common.get("type", "u16"))) or 1
        if name is not None:  # None leaves a gap of one register's width
            out.append({**common, "name": name, "address": address})
        address += int(words)
    return out


def _expand_repeat(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A table: ``name`` template formatted with the indices, one register per field."""
    spec = dict(spec)
    template = str(spec.pop("name"))
    base = _int_field(spec.pop("start", None), f"repeat {template} start")
    dims = spec.pop("dims")
    first = int(spec.pop("index_from", 1))
    fields = spec.pop("fields", None) or [{"suffix": None, "offset": 0}]
    out: list[dict[str, Any]] = []
    for indices, offset in _index_grid(dims, first):
        prefix = template.format(*indices)
        for fld in fields:
            fld = dict(fld)
            suffix = fld.pop("suffix", None)
            name = f"{prefix}_{suffix}" if suffix else prefix
            address = base + offset + int(fld.pop("offset", 0))
            out.append({"label": name.replace("_", " "), **spec, **fld,
                        "name": name, "address": address})
    return out


def _index_grid(dims: list[list[int]], first: int) -> list[tuple[tuple[int, ...], int]]:
    grid: list[tuple[tuple[int, ...], int]] = [((), 0)]
    for count, stride in dims:
        grid = [((*idx, first + i), off + i * stride) for idx, off in grid for i in range(count)]
    return grid


# --- building and checking registers -----------------------------------------------------------

def _int_field(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(f"{what}: {value!r} is not an integer")
    return value


def _make_register(raw: dict[str, Any], defaults: dict[str, Any]) -> Register:
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
    address = _int_field(f.get("address"), "address")
    if not 0 <= address <= 0xFFFF:
        raise ProfileError(f"address {address} is outside 0..65535")
    table = _one_of(f.get("table", "holding"), TABLES, "table")
    rtype = _one_of(f.get("type", "bit" if table == "coil" else "u16"), tuple(TYPE_WORDS), "type")
    words = _words_for(rtype, table, f.get("words"))
    if address + words > 0x10000:
        raise ProfileError(f"words run past address 65535 (address {address}, {words} words)")
    minimum, maximum = _opt_float(f.get("minimum"), "minimum"), _opt_float(f.get("maximum"),
                                                                            "maximum")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ProfileError(f"minimum {minimum} is greater than maximum {maximum}")
    quantity = QUANTITIES.get(name)
    group = str(f.get("group", "measurement"))
    if group in CANONICAL_GROUPS and quantity is None:
        raise ProfileError(f"unknown quantity name for group {group!r} "
                           "(see kpm37/quantities.py)")
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
    count = _int_field(words, "words")
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
    return {_int_field(k, "choice code"): str(v) for k, v in value.items()}


def _make_block(raw: Any) -> ReadBlock:
    if not isinstance(raw, dict):
        raise ProfileError(f"read block {raw!r} must be a mapping with table, start, end")
    table = _one_of(raw.get("table", "holding"), TABLES, "read block table")
    start = _int_field(raw.get("start"), "read block start")
    end = _int_field(raw.get("end"), "read block end")
    if not 0 <= start < end <= 0x10000:
        raise ProfileError(f"read block {start:#06x}..{end:#06x} is empty or out of range")
    return ReadBlock(table, start, end)


def _check_map(registers: list[Register], blocks: list[ReadBlock]) -> None:
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


def _check_mqtt(mqtt: Mapping[str, Any]) -> dict[str, dict[str, str]]:
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
