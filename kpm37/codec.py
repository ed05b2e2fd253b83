"""Turn register values into 16-bit words and back, exactly as the profile describes them.

``validate`` runs before ``encode`` so a bad value is refused with the field name and reason
before anything reaches the wire. The BCD clock layout (YY MM DD hh mm ss, one byte each, in
three words) is assumed for the KPM37: the KPM33B manual only says "6 bytes Y M D h m s".
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from kpm37.errors import ValueOutOfRange
from kpm37.profile import Profile, Register

Value = float | int | str | datetime | bool | None

_INT_RANGES = {"u16": (0, 0xFFFF), "s16": (-0x8000, 0x7FFF), "u32": (0, 0xFFFFFFFF),
               "s32": (-0x80000000, 0x7FFFFFFF)}


FLOAT32_MAX = 3.4028234663852886e38  # largest finite IEEE 754 single


def validate(reg: Register, value: Any, *, check_access: bool = True) -> None:
    """Raise ValueOutOfRange(field=reg.name) unless ``value`` may be written to ``reg``."""
    if check_access and not reg.writable:
        raise ValueOutOfRange(reg.name, "is read-only")
    checker = _CHECKS[reg.type]
    checker(reg, value)


def encode(reg: Register, value: Any) -> list[int]:
    """Words for ``value`` (validated first, except that read-only registers are allowed)."""
    validate(reg, value, check_access=False)
    return cast(list[int], _ENCODERS[reg.type](reg, value))


def decode(reg: Register, words: Sequence[int]) -> Value:
    """The value held in ``words`` (exactly ``reg.words`` of them)."""
    if len(words) != reg.words:
        raise ValueOutOfRange(reg.name, f"needs {reg.words} words, got {len(words)}")
    return cast(Value, _DECODERS[reg.type](reg, list(words)))


def decode_block(profile: Profile, table: str, start: int,
                 words: Sequence[int]) -> dict[str, Value]:
    """Decode every readable register lying fully inside ``words`` read from ``start``."""
    end = start + len(words)
    out: dict[str, Value] = {}
    for reg in profile.registers_within(table, start, end):
        if reg.readable:
            offset = reg.address - start
            out[reg.name] = decode(reg, words[offset:offset + reg.words])
    return out


# --- validation -------------------------------------------------------------------------------

def _check_number(reg: Register, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueOutOfRange(reg.name, f"expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueOutOfRange(reg.name, "must be a finite number")
    if reg.choices is not None:
        raw = value / reg.scale
        if raw not in reg.choices:
            allowed = ", ".join(f"{k * reg.scale:g} ({v})" for k, v in reg.choices.items())
            raise ValueOutOfRange(reg.name, f"{value!r} is not one of {allowed}")
    if reg.minimum is not None and value < reg.minimum:
        raise ValueOutOfRange(reg.name, f"{value!r} is below the minimum {reg.minimum:g}")
    if reg.maximum is not None and value > reg.maximum:
        raise ValueOutOfRange(reg.name, f"{value!r} is above the maximum {reg.maximum:g}")


def _check_int(reg: Register, value: Any) -> None:
    _check_number(reg, value)
    raw = value / reg.scale
    if abs(raw - round(raw)) > 1e-6 * max(1.0, abs(raw)):
        raise ValueOutOfRange(reg.name, f"{value!r} is not a multiple of the step {reg.scale:g}")
    low, high = _INT_RANGES[reg.type]
    if not low <= round(raw) <= high:
        raise ValueOutOfRange(reg.name, f"{value!r} does not fit a {reg.type} register")


def _check_float(reg: Register, value: Any) -> None:
    _check_number(reg, value)
    if abs(value / reg.scale) > FLOAT32_MAX:
        raise ValueOutOfRange(reg.name, f"{value!r} does not fit a float32 register")


def _check_ascii(reg: Register, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueOutOfRange(reg.name, f"expected text, got {type(value).__name__}")
    if not value.isascii():
        raise ValueOutOfRange(reg.name, "must be plain ASCII text")
    if len(value) > 2 * reg.words:
        raise ValueOutOfRange(reg.name, f"is {len(value)} characters; at most {2 * reg.words}")


def _check_clock(reg: Register, value: Any) -> None:
    if value is None:
        return  # all-zero clock: "not set", used by switch-over times
    if not isinstance(value, datetime):
        raise ValueOutOfRange(reg.name, f"expected a date and time, got {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueOutOfRange(reg.name, "meter clocks hold local time: give a naive datetime")
    if not 2000 <= value.year <= 2099:
        raise ValueOutOfRange(reg.name, f"year {value.year} is outside 2000..2099")


def _check_bit(reg: Register, value: Any) -> None:
    if value not in (True, False, 0, 1) or isinstance(value, float):
        raise ValueOutOfRange(reg.name, f"expected on/off (True/False), got {value!r}")


_CHECKS = {"u16": _check_int, "s16": _check_int, "u32": _check_int, "s32": _check_int,
           "float32": _check_float, "ascii": _check_ascii, "bcd_clock": _check_clock,
           "bit": _check_bit}


# --- encoding ---------------------------------------------------------------------------------

def _order(reg: Register, words: list[int]) -> list[int]:
    return words if reg.word_order == "big" else words[::-1]


def _enc_int(reg: Register, value: float) -> list[int]:
    raw = round(value / reg.scale)
    if reg.words == 1:
        return [raw & 0xFFFF]
    raw &= 0xFFFFFFFF
    return _order(reg, [raw >> 16, raw & 0xFFFF])


def _enc_float(reg: Register, value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value / reg.scale))
    return _order(reg, [high, low])


def _enc_ascii(reg: Register, value: str) -> list[int]:
    data = value.encode("ascii").ljust(2 * reg.words, b"\0")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _bcd(n: int) -> int:
    return (n // 10) << 4 | n % 10


def _enc_clock(reg: Register, value: datetime | None) -> list[int]:
    if value is None:
        return [0, 0, 0]
    parts = [value.year % 100, value.month, value.day, value.hour, value.minute, value.second]
    return [_bcd(parts[i]) << 8 | _bcd(parts[i + 1]) for i in range(0, 6, 2)]


def _enc_bit(reg: Register, value: bool | int) -> list[int]:
    return [1 if value else 0]


_ENCODERS: dict[str, Any] = {
    "u16": _enc_int, "s16": _enc_int, "u32": _enc_int, "s32": _enc_int,
    "float32": _enc_float, "ascii": _enc_ascii, "bcd_clock": _enc_clock, "bit": _enc_bit}


# --- decoding ---------------------------------------------------------------------------------

def _scaled(reg: Register, raw: int) -> int | float:
    return raw if reg.scale == 1 else round(raw * reg.scale, 10)


def _dec_int(reg: Register, words: list[int]) -> int | float:
    if reg.words == 1:
        raw = words[0] & 0xFFFF
        bits = 16
    else:
        high, low = _order(reg, words)
        raw, bits = (high & 0xFFFF) << 16 | (low & 0xFFFF), 32
    if reg.type.startswith("s") and raw >= 1 << (bits - 1):
        raw -= 1 << bits
    return _scaled(reg, raw)


def _dec_float(reg: Register, words: list[int]) -> float:
    high, low = _order(reg, words)
    (value,) = struct.unpack(">f", struct.pack(">HH", high & 0xFFFF, low & 0xFFFF))
    return float(value) * reg.scale


def _dec_ascii(reg: Register, words: list[int]) -> str:
    data = b"".join((w & 0xFFFF).to_bytes(2, "big") for w in words)
    return data.decode("ascii", errors="replace").rstrip("\0 ")


def _unbcd(reg: Register, byte: int) -> int:
    high, low = byte >> 4, byte & 0x0F
    if high > 9 or low > 9:
        raise ValueOutOfRange(reg.name, f"byte {byte:#04x} is not BCD")
    return high * 10 + low


def _dec_clock(reg: Register, words: list[int]) -> datetime | None:
    if not any(words):
        return None
    raw = b"".join((w & 0xFFFF).to_bytes(2, "big") for w in words)
    yy, mo, dd, hh, mi, ss = (_unbcd(reg, b) for b in raw)
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss)  # noqa: DTZ001 - meter local time
    except ValueError as exc:
        raise ValueOutOfRange(reg.name, f"not a valid date and time: {exc}") from None


def _dec_bit(reg: Register, words: list[int]) -> bool:
    return bool(words[0])


_DECODERS: dict[str, Any] = {
    "u16": _dec_int, "s16": _dec_int, "u32": _dec_int, "s32": _dec_int,
    "float32": _dec_float, "ascii": _dec_ascii, "bcd_clock": _dec_clock, "bit": _dec_bit}
