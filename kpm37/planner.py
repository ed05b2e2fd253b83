"""Turn "read these quantities" and "write these values" into the fewest legal Modbus frames.

The bus is the scarce resource: at 9600 baud a frame costs its bytes plus a 100 ms gap, so
reads merge neighbouring registers across unused addresses (the meter answers anything inside
a read block) and writes merge exactly contiguous runs (a write may never touch a register
nobody asked for). ``airtime`` prices a frame on the wire per PROTOCOL.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpm37 import codec
from kpm37.errors import ValueOutOfRange
from kpm37.profile import TABLES, Profile, Register


@dataclass(frozen=True)
class ReadFrame:
    """Read ``count`` registers (or coils) from ``start``; ``names`` are decoded from it."""

    table: str
    start: int
    count: int
    names: tuple[str, ...] = field(default=())

    @property
    def end(self) -> int:
        return self.start + self.count


@dataclass(frozen=True)
class WriteFrame:
    """Write ``words`` from ``start`` (function 16; for a coil, one word 0/1 and function 05)."""

    table: str
    start: int
    words: tuple[int, ...]
    names: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.words)


def plan_reads(profile: Profile, names: Iterable[str], *,
               max_span: int | None = None) -> list[ReadFrame]:
    """The fewest frames that read every register in ``names``.

    Frames never cross a read block and span at most ``max_span`` (default and ceiling: the
    profile's 125 registers, or 2000 coils). Greedy from the lowest address is optimal here:
    each frame starts at the first register not yet covered and reaches as far as it can."""
    wanted = sorted({n: profile.register(n) for n in names}.values(),
                    key=lambda r: (TABLES.index(r.table), r.address))
    frames: list[ReadFrame] = []
    for reg in wanted:
        if not reg.readable:
            raise ValueOutOfRange(reg.name, "is write-only and cannot be read")
        if reg.words > _limit(profile, reg.table, max_span):
            raise ValueOutOfRange("max_span", f"{max_span} is narrower than {reg.name} "
                                  f"({reg.words} words)")
    current: list[Register] = []
    for reg in wanted:
        if current and _fits(profile, current, reg, max_span):
            current.append(reg)
            continue
        if current:
            frames.append(_read_frame(current))
        current = [reg]
    if current:
        frames.append(_read_frame(current))
    return frames


def _limit(profile: Profile, table: str, max_span: int | None) -> int:
    ceiling = profile.max_coils if table == "coil" else profile.max_read
    return min(ceiling, max_span) if max_span else ceiling


def _fits(profile: Profile, current: list[Register], reg: Register, max_span: int | None) -> bool:
    first = current[0]
    if reg.table != first.table or reg.end - first.address > _limit(profile, reg.table, max_span):
        return False
    return profile.block_of(reg.table, first.address, reg.end) is not None


def _read_frame(regs: list[Register]) -> ReadFrame:
    start = regs[0].address
    return ReadFrame(regs[0].table, start, max(r.end for r in regs) - start,
                     tuple(r.name for r in regs))


def plan_writes(profile: Profile, values: dict[str, Any]) -> list[WriteFrame]:
    """Frames that write exactly ``values``, after validating every one of them.

    A bad value raises one ValueOutOfRange naming the field, and nothing is planned. Exactly
    contiguous writable registers share a frame (at most ``max_write`` words). The password,
    when given, goes first: inside the first frame where ``password_first`` (so it must be
    contiguous with what it unlocks), otherwise as a frame of its own ahead of the rest."""
    regs = [profile.register(n) for n in values]
    for reg in regs:
        codec.validate(reg, values[reg.name])
    _require_password(profile, regs)
    coils = [r for r in regs if r.table == "coil"]
    holding = sorted((r for r in regs if r.table == "holding"), key=lambda r: r.address)
    runs = _contiguous_runs(profile, holding)
    frames = [WriteFrame("holding", run[0].address,
                         tuple(w for r in run for w in codec.encode(r, values[r.name])),
                         tuple(r.name for r in run)) for run in runs]
    frames = _password_first(profile, frames)
    frames += [WriteFrame("coil", r.address, (1 if values[r.name] else 0,), (r.name,))
               for r in sorted(coils, key=lambda r: r.address)]
    return frames


def _require_password(profile: Profile, regs: list[Register]) -> None:
    password = profile.password_register
    protected = [r.name for r in regs if profile.is_protected(r)]
    if password and protected and password not in {r.name for r in regs}:
        raise ValueOutOfRange(password, f"is needed to write {protected[0]} (include the "
                              "meter's password in the values)")


def _contiguous_runs(profile: Profile, regs: list[Register]) -> list[list[Register]]:
    runs: list[list[Register]] = []
    password = profile.password_register
    for reg in regs:
        run = runs[-1] if runs else None
        # The password opens its own run; without password_first it also stays alone.
        separate = reg.name == password or (
            not profile.password_first and run is not None and run[-1].name == password)
        if (run and not separate and reg.address == run[-1].end
                and reg.end - run[0].address <= profile.max_write):
            run.append(reg)
        else:
            runs.append([reg])
    return runs


def _password_first(profile: Profile, frames: list[WriteFrame]) -> list[WriteFrame]:
    password = profile.password_register
    first = [f for f in frames if password in f.names]
    rest = [f for f in frames if password not in f.names]
    if first and profile.password_first:
        for frame in rest:
            guarded = [n for n in frame.names if profile.is_protected(profile.register(n))]
            if guarded:
                raise ValueOutOfRange(guarded[0], "must share a frame with the password, but "
                                      "it is not contiguous with the password register")
    return first + rest


# --- air time ---------------------------------------------------------------------------------

def frame_bytes(frame: ReadFrame | WriteFrame) -> tuple[int, int]:
    """(request bytes, response bytes) of an RTU exchange for ``frame``."""
    if isinstance(frame, ReadFrame):
        if frame.table == "coil":
            return 8, 5 + math.ceil(frame.count / 8)  # function 01
        return 8, 5 + 2 * frame.count  # function 03
    if frame.table == "coil":
        return 8, 8  # function 05 echoes the request
    return 9 + 2 * frame.count, 8  # function 16


def airtime(frame: ReadFrame | WriteFrame, baud: int, *, bits_per_char: int = 11,
            frame_gap: float = 0.1, turnaround: float = 0.0) -> float:
    """Seconds the bus is busy with ``frame``: both messages, the 3.5-character silence after
    each (fixed 1.75 ms above 19200 baud), the meter's turnaround and the inter-frame gap."""
    if baud <= 0:
        raise ValueOutOfRange("baud", f"{baud!r} must be a positive baud rate")
    char = bits_per_char / baud
    silence = 0.00175 if baud > 19200 else 3.5 * char
    request, response = frame_bytes(frame)
    return (request + response) * char + 2 * silence + turnaround + frame_gap


def plan_airtime(frames: Sequence[ReadFrame | WriteFrame], baud: int, *, bits_per_char: int = 11,
                 frame_gap: float = 0.1, turnaround: float = 0.0) -> float:
    """Total bus time of ``frames`` sent one after another."""
    return sum(airtime(f, baud, bits_per_char=bits_per_char, frame_gap=frame_gap,
                       turnaround=turnaround) for f in frames)
