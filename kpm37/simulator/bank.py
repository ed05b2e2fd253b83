"""A plain register bank: the smallest meter stand-in, for transport and scheduler work.

It has the same register-level methods as :class:`kpm37.simulator.meter.SimMeter` but no
profile: any address in its range reads back what was written (zero at first), so framing and
bus behaviour can be exercised without measurement semantics.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from kpm37.errors import ModbusExceptionResponse
from kpm37.modbus.pdu import (
    ILLEGAL_DATA_ADDRESS,
    READ_COILS,
    READ_HOLDING_REGISTERS,
    WRITE_MULTIPLE_REGISTERS,
    WRITE_SINGLE_COIL,
)


@dataclass
class BankFaults:
    """The fault switches a gateway honours (the same names as SimMeter's faults)."""

    silent: bool = False
    corrupt_crc: bool = False
    wrong_unit: bool = False
    slow_ms: int = 0


class RegisterBank:
    """``size`` holding registers and ``coils`` relay coils at one Modbus address."""

    def __init__(self, address: int, *, size: int = 0x400, coils: int = 8, code: str = "") -> None:
        self.address = address
        self.code = code or f"3071025900{address:03d}"[:13]
        self.registers = [0] * size
        self.coils = [False] * coils
        self.faults = BankFaults()
        self.lock = threading.RLock()
        self.writes: list[tuple[int, list[int]]] = []

    def _check(self, function: int, address: int, count: int, size: int) -> None:
        if address < 0 or count < 1 or address + count > size:
            raise ModbusExceptionResponse(function, ILLEGAL_DATA_ADDRESS)

    def read_registers(self, address: int, count: int) -> list[int]:
        """Return ``count`` registers from ``address``."""
        self._check(READ_HOLDING_REGISTERS, address, count, len(self.registers))
        return self.registers[address : address + count]

    def write_registers(self, address: int, values: list[int]) -> None:
        """Store ``values`` from ``address`` and remember the write."""
        self._check(WRITE_MULTIPLE_REGISTERS, address, len(values), len(self.registers))
        self.registers[address : address + len(values)] = list(values)
        self.writes.append((address, list(values)))

    def read_coils(self, address: int, count: int) -> list[bool]:
        """Return ``count`` coils from ``address``."""
        self._check(READ_COILS, address, count, len(self.coils))
        return self.coils[address : address + count]

    def write_coil(self, address: int, value: bool) -> None:
        """Set one coil."""
        self._check(WRITE_SINGLE_COIL, address, 1, len(self.coils))
        self.coils[address] = value
