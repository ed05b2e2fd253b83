"""The register image of a simulated meter and the Modbus rules for reaching it.

Which reads and writes the meter accepts (refusals carry Modbus exception codes 2, 3 and 4,
as a real meter would answer), the words a read returns, and the values a write frame carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kpm37 import codec
from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.modbus import pdu
from kpm37.profile import Profile, Register

# The simulator's short names for the function and exception codes pdu defines.
READ_HOLDING, READ_COILS = pdu.READ_HOLDING_REGISTERS, pdu.READ_COILS
WRITE_COIL, WRITE_REGISTERS = pdu.WRITE_SINGLE_COIL, pdu.WRITE_MULTIPLE_REGISTERS
ILLEGAL_ADDRESS, ILLEGAL_VALUE = pdu.ILLEGAL_DATA_ADDRESS, pdu.ILLEGAL_DATA_VALUE
DEVICE_FAILURE = pdu.SERVER_DEVICE_FAILURE


def refuse(function: int, code: int) -> ModbusExceptionResponse:
    """The exception response a meter gives for ``function`` with exception ``code``."""
    return ModbusExceptionResponse(function, code)


def initial_values(profile: Profile) -> dict[str, Any]:
    """Every register's value before the meter has done anything: its default, or zero."""
    return {r.name: _initial(r) for r in profile.registers}


class RegisterImage:
    """Modbus access to a profile's registers, by address."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def check_read(self, address: int, count: int) -> None:
        """Refuse a holding-register read the meter would not answer."""
        if not 1 <= count <= self._profile.max_read:
            raise refuse(READ_HOLDING, ILLEGAL_VALUE)
        if self._profile.block_of("holding", address, address + count) is None:
            raise refuse(READ_HOLDING, ILLEGAL_ADDRESS)

    def check_coil_read(self, address: int, count: int) -> None:
        """Refuse a coil read the meter would not answer."""
        if not 1 <= count <= self._profile.max_coils:
            raise refuse(READ_COILS, ILLEGAL_VALUE)
        if self._profile.block_of("coil", address, address + count) is None:
            raise refuse(READ_COILS, ILLEGAL_ADDRESS)

    def words(self, address: int, count: int, value_of: Callable[[Register], Any]) -> list[int]:
        """The words at ``address .. address+count-1``, registers encoded from ``value_of``;
        gaps, write-only registers and values that cannot be encoded read as zero."""
        words: list[int] = []
        encoded: dict[str, list[int]] = {}
        for addr in range(address, address + count):
            reg = self._profile.register_covering("holding", addr)
            if reg is None:
                words.append(0)
                continue
            if reg.name not in encoded:
                encoded[reg.name] = _encode(reg, value_of)
            words.append(encoded[reg.name][addr - reg.address])
        return words

    def coils(self, address: int, count: int) -> list[Register | None]:
        """The coil register at each address of a read (None where there is none)."""
        return [self._profile.register_covering("coil", addr)
                for addr in range(address, address + count)]

    def writable_coil(self, address: int) -> Register:
        """The coil a single-coil write at ``address`` switches, or the refusal."""
        reg = self._profile.register_at("coil", address)
        if reg is None or not reg.writable:
            raise refuse(WRITE_COIL, ILLEGAL_ADDRESS)
        return reg

    def decode_frame(self, address: int, words: list[int]) -> list[tuple[Register, Any]]:
        """The (register, value) pairs of a multiple-register write, all checked, or the
        refusal: 3 for a bad length or value, 2 for anything but whole writable registers."""
        if not 1 <= len(words) <= self._profile.max_write:
            raise refuse(WRITE_REGISTERS, ILLEGAL_VALUE)
        out: list[tuple[Register, Any]] = []
        offset = 0
        while offset < len(words):
            reg = self._profile.register_at("holding", address + offset)
            if reg is None or not reg.writable or offset + reg.words > len(words):
                raise refuse(WRITE_REGISTERS, ILLEGAL_ADDRESS)
            out.append((reg, _decoded(reg, words[offset:offset + reg.words])))
            offset += reg.words
        return out


def _encode(reg: Register, value_of: Callable[[Register], Any]) -> list[int]:
    if not reg.readable:
        return [0] * reg.words
    try:
        return codec.encode(reg, value_of(reg))
    except ValueOutOfRange:  # e.g. a clock set years outside 2000-2099 reads as unset
        return [0] * reg.words


def _decoded(reg: Register, words: list[int]) -> Any:
    try:
        value = codec.decode(reg, words)
        codec.validate(reg, value)
    except ValueOutOfRange:
        raise refuse(WRITE_REGISTERS, ILLEGAL_VALUE) from None
    if value is None and reg.group == "clock":
        # All-zero words decode as "unset"; a running meter clock cannot be set to nothing.
        raise refuse(WRITE_REGISTERS, ILLEGAL_VALUE)
    return value


def _initial(reg: Register) -> Any:
    if reg.default is not None:
        return reg.default
    if reg.type == "ascii":
        return ""
    if reg.type in ("bcd_clock",):
        return None
    if reg.type == "bit":
        return False
    return 0.0 if reg.type == "float32" else 0
