"""Wire framing: MBAP for Modbus TCP and RTU (unit, PDU, CRC16) for serial-style links.

RTU has no length field, so the reader works out where a frame ends from its function code and
byte count (the same rules a Modbus device uses), which lets it read from a TCP stream or a
serial port without relying on silence timing.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Protocol

from kpm37.errors import ConnectionLost, CrcError, ProtocolError
from kpm37.modbus.crc import crc_bytes
from kpm37.modbus.pdu import (
    READ_COILS,
    READ_HOLDING_REGISTERS,
    WRITE_MULTIPLE_REGISTERS,
    WRITE_SINGLE_COIL,
    WRITE_SINGLE_REGISTER,
)

MBAP_HEADER = struct.Struct(">HHHB")
_MAX_PDU = 253


@dataclass(frozen=True)
class Frame:
    """One received ADU, unpacked: unit id, PDU, and the MBAP transaction id (0 for RTU)."""

    unit: int
    pdu: bytes
    transaction: int = 0


class Framer(Protocol):
    """Packs PDUs into ADUs and reads whole ADUs from a stream."""

    name: str

    def encode(self, unit: int, pdu: bytes, transaction: int = 0) -> bytes: ...

    async def read_frame(self, reader: asyncio.StreamReader, *, request: bool) -> Frame: ...


async def _read_exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise ConnectionLost(f"link closed after {len(exc.partial)} of {n} bytes") from exc
    except OSError as exc:
        raise ConnectionLost(f"link failed: {exc}") from exc


class SocketFramer:
    """Modbus TCP: a 7-byte MBAP header (transaction, protocol 0, length, unit) before the PDU."""

    name = "socket"

    def encode(self, unit: int, pdu: bytes, transaction: int = 0) -> bytes:
        """The ADU for ``pdu``; ``transaction`` ties the answer to its request."""
        return MBAP_HEADER.pack(transaction & 0xFFFF, 0, len(pdu) + 1, unit) + pdu

    async def read_frame(self, reader: asyncio.StreamReader, *, request: bool) -> Frame:
        """Read one ADU (requests and responses are framed alike)."""
        transaction, protocol, length, unit = MBAP_HEADER.unpack(await _read_exactly(reader, 7))
        if protocol != 0:
            raise ProtocolError(f"MBAP protocol id {protocol}, expected 0")
        if not 2 <= length <= _MAX_PDU + 1:
            raise ProtocolError(f"MBAP length {length} is outside 2-{_MAX_PDU + 1}")
        return Frame(unit, await _read_exactly(reader, length - 1), transaction)


class RtuFramer:
    """Modbus RTU: unit, PDU, CRC16 little-endian; frame length inferred from the PDU."""

    name = "rtu"

    def encode(self, unit: int, pdu: bytes, transaction: int = 0) -> bytes:
        """The ADU for ``pdu`` (``transaction`` is ignored: RTU has none)."""
        body = bytes([unit]) + pdu
        return body + crc_bytes(body)

    async def read_frame(self, reader: asyncio.StreamReader, *, request: bool) -> Frame:
        """Read one ADU; raises CrcError if the checksum is wrong (the frame is consumed)."""
        head = await _read_exactly(reader, 2)
        rest = await _read_exactly(reader, _remaining_length(head, request))
        if request and head[1] == WRITE_MULTIPLE_REGISTERS:
            rest = rest + await _read_exactly(reader, rest[-1] + 2)
        elif not request and head[1] in (READ_COILS, READ_HOLDING_REGISTERS):
            rest = rest + await _read_exactly(reader, rest[0] + 2)
        frame = head + rest
        if crc_bytes(frame[:-2]) != frame[-2:]:
            raise CrcError(f"CRC mismatch in RTU frame {frame.hex()}")
        return Frame(frame[0], frame[1:-2])


def _remaining_length(head: bytes, request: bool) -> int:
    """How many bytes follow the unit and function bytes, up to the byte-count byte if any."""
    function = head[1]
    if request:
        if function == WRITE_MULTIPLE_REGISTERS:
            return 5  # address, quantity, byte count
        if function in (READ_COILS, READ_HOLDING_REGISTERS, WRITE_SINGLE_COIL,
                        WRITE_SINGLE_REGISTER):
            return 6
        raise ProtocolError(f"RTU request with unknown function {function:#04x}")
    if function & 0x80:
        return 3  # exception code + CRC
    if function in (READ_COILS, READ_HOLDING_REGISTERS):
        return 1  # byte count; data and CRC read after it
    if function in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER, WRITE_MULTIPLE_REGISTERS):
        return 6
    raise ProtocolError(f"RTU response with unknown function {function:#04x} (garbage?)")


def rtu_size(pdu_len: int) -> int:
    """Bytes on the RS485 wire for a PDU of ``pdu_len`` bytes: unit + PDU + CRC."""
    return pdu_len + 3


def framer_for(name: str) -> Framer:
    """Return the framer called ``name`` ("socket" or "rtu")."""
    if name == "socket":
        return SocketFramer()
    if name == "rtu":
        return RtuFramer()
    raise ValueError(f"framer: {name!r} is not one of 'socket', 'rtu'")
