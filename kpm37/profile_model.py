"""The profile data model: :class:`Register`, :class:`ReadBlock` and :class:`Profile`.

These are plain values built by :mod:`kpm37.profile_loader` from a YAML file; codec, planner
and simulator read only these. Import them from :mod:`kpm37.profile`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, NamedTuple

TYPE_WORDS: dict[str, int | None] = {
    "u16": 1, "s16": 1, "u32": 2, "s32": 2, "float32": 2, "bcd_clock": 3, "bit": 1,
    "ascii": None,  # any positive number of words
}
TABLES = ("holding", "coil")
ACCESS = ("r", "rw", "w")


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


@dataclass(frozen=True)
class PasswordRule:
    """How a write proves it may change protected registers: the one place that says so.

    ``first_in_write``: the password is the first value of the same write (V1.9 §4.8's
    SYS_CFG example writes ``6666;1;2`` from 0000H). ``unlock``: a correct password written on
    its own unlocks later writes for ``unlock_seconds``. ``source`` says which document (or
    that it is assumed, and why)."""

    register: str | None
    rule: str = "first_in_write"
    unlock_seconds: int = 0
    protected_groups: tuple[str, ...] = ("parameter", "relay", "tou")
    source: str = "assumed"

    @property
    def first_in_write(self) -> bool:
        return self.rule == "first_in_write"


@dataclass(frozen=True)
class TouSizes:
    """How large the meter's time-of-use tables are, with the document that says so."""

    zones: int
    day_tables: int
    periods_per_day: int
    rates: int = 5
    source: str = "assumed"


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
                 mqtt_scale: dict[str, float] | None = None,
                 max_read: int = 125, max_write: int = 123, max_coils: int = 2000,
                 password_rule: PasswordRule | None = None,
                 tou_sizes: TouSizes | None = None) -> None:
        self.name = name
        self.model = model
        self.description = description
        self.source_note = source_note
        self.registers: tuple[Register, ...] = tuple(
            sorted(registers, key=lambda r: (TABLES.index(r.table), r.address)))
        self.read_blocks = sorted(read_blocks, key=lambda b: (TABLES.index(b.table), b.start))
        self.password_rule = password_rule or PasswordRule(
            register=password_register, rule="first_in_write" if password_first else "unlock",
            unlock_seconds=0 if password_first else 60, protected_groups=protected_groups)
        # the rule's parts under the names the planner and simulator have always used
        self.password_register = self.password_rule.register
        self.password_first = self.password_rule.first_in_write
        self.protected_groups = self.password_rule.protected_groups
        self.tou_sizes = tou_sizes
        self.mqtt = mqtt
        # quantity = tag value x scale, for tags whose unit differs from the quantity's
        # (V1.9 sends the residual current in A; the platform keeps mA).
        self.mqtt_scale: dict[str, float] = dict(mqtt_scale or {})
        self.max_read = max_read
        self.max_write = max_write
        self.max_coils = max_coils
        self._by_name = {r.name: r for r in self.registers}
        self._by_start = {(r.table, r.address): r for r in self.registers}
        # Every word address, not just register starts (a read may start mid-register); built
        # once per profile rather than once per simulated meter.
        self._by_word = {(r.table, r.address + i): r for r in self.registers
                         for i in range(r.words)}
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

    def register_covering(self, table: str, address: int) -> Register | None:
        """The register one of whose words is at ``address`` in ``table``, if any."""
        return self._by_word.get((table, address))

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
