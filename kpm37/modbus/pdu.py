"""Modbus PDUs for the function codes a KPM37 speaks: 01, 03, 05, 06, 16 and exception replies.

Both sides live here: the master encodes requests and decodes responses, the simulator decodes
requests and encodes responses, so one set of rules is exercised from both ends.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from kpm37.errors import ModbusExceptionResponse, ProtocolError

READ_COILS = 0x01
READ_HOLDING_REGISTERS = 0x03
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_REGISTERS = 0x10
SUPPORTED_FUNCTIONS = frozenset(
    {READ_COILS, READ_HOLDING_REGISTERS, WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER,
     WRITE_MULTIPLE_REGISTERS}
)

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
SERVER_DEVICE_FAILURE = 0x04

MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123
MAX_READ_COILS = 2000
COIL_ON = 0xFF00

Result = list[int] | list[bool] | None


@dataclass(frozen=True)
class Request:
    """One Modbus request to one unit. ``count`` for reads, ``values`` for writes (a coil write
    carries one value, 1 or 0)."""

    unit: int
    function: int
    address: int
    count: int = 0
    values: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_request(self)


def _check_request(req: Request) -> None:
    if not 0 <= req.unit <= 255:
        raise ValueError(f"unit: {req.unit} is outside 0-255")
    if req.function not in SUPPORTED_FUNCTIONS:
        raise ValueError(f"function: {req.function:#04x} is not supported")
    if not 0 <= req.address <= 0xFFFF:
        raise ValueError(f"address: {req.address} is outside 0-65535")
    limit = {READ_HOLDING_REGISTERS: MAX_READ_REGISTERS, READ_COILS: MAX_READ_COILS}.get(
        req.function
    )
    if limit is not None and not 1 <= req.count <= limit:
        raise ValueError(f"count: {req.count} is outside 1-{limit}")
    if req.function == WRITE_MULTIPLE_REGISTERS and not 1 <= len(req.values) <= MAX_WRITE_REGISTERS:
        raise ValueError(f"values: {len(req.values)} registers, must be 1-{MAX_WRITE_REGISTERS}")
    if req.function in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER) and len(req.values) != 1:
        raise ValueError("values: a single write carries exactly one value")
    if any(not 0 <= v <= 0xFFFF for v in req.values):
        raise ValueError("values: every register value must be 0-65535")


def read_registers(unit: int, address: int, count: int) -> Request:
    """FC 03 request."""
    return Request(unit, READ_HOLDING_REGISTERS, address, count)


def write_registers(unit: int, address: int, values: list[int] | tuple[int, ...]) -> Request:
    """FC 16 request."""
    return Request(unit, WRITE_MULTIPLE_REGISTERS, address, values=tuple(values))


def read_coils(unit: int, address: int, count: int) -> Request:
    """FC 01 request."""
    return Request(unit, READ_COILS, address, count)


def write_coil(unit: int, address: int, value: bool) -> Request:
    """FC 05 request."""
    return Request(unit, WRITE_SINGLE_COIL, address, values=(1 if value else 0,))


def encode_request(req: Request) -> bytes:
    """The request PDU (function code and data, no unit, no checksum)."""
    if req.function in (READ_HOLDING_REGISTERS, READ_COILS):
        return struct.pack(">BHH", req.function, req.address, req.count)
    if req.function == WRITE_SINGLE_COIL:
        return struct.pack(">BHH", req.function, req.address, COIL_ON if req.values[0] else 0)
    if req.function == WRITE_SINGLE_REGISTER:
        return struct.pack(">BHH", req.function, req.address, req.values[0])
    n = len(req.values)
    head = struct.pack(">BHHB", req.function, req.address, n, 2 * n)
    return head + struct.pack(f">{n}H", *req.values)


def decode_request(unit: int, pdu: bytes) -> Request:
    """Parse a request PDU. Raises ModbusExceptionResponse with the code a server should send
    back (illegal function or illegal data value)."""
    if not pdu:
        raise ProtocolError("empty request PDU")
    function = pdu[0]
    if function not in SUPPORTED_FUNCTIONS:
        raise ModbusExceptionResponse(function, ILLEGAL_FUNCTION)
    try:
        return _decode_known_request(unit, function, pdu)
    except (struct.error, ValueError) as exc:
        raise ModbusExceptionResponse(function, ILLEGAL_DATA_VALUE) from exc


def _decode_known_request(unit: int, function: int, pdu: bytes) -> Request:
    if function == WRITE_MULTIPLE_REGISTERS:
        _, address, count, nbytes = struct.unpack(">BHHB", pdu[:6])
        if nbytes != 2 * count or len(pdu) != 6 + nbytes:
            raise ValueError("byte count does not match register count")
        return Request(unit, function, address, values=struct.unpack(f">{count}H", pdu[6:]))
    _, address, word = struct.unpack(">BHH", pdu)
    if function == WRITE_SINGLE_COIL:
        if word not in (0, COIL_ON):
            raise ValueError("coil value must be 0xFF00 or 0x0000")
        return Request(unit, function, address, values=(1 if word else 0,))
    if function == WRITE_SINGLE_REGISTER:
        return Request(unit, function, address, values=(word,))
    return Request(unit, function, address, count=word)


def encode_response(req: Request, result: Result) -> bytes:
    """The response PDU a server sends for ``req`` with the data it read (None for writes)."""
    if req.function == READ_HOLDING_REGISTERS:
        words = [int(v) for v in (result or [])]
        return struct.pack(f">BB{len(words)}H", req.function, 2 * len(words), *words)
    if req.function == READ_COILS:
        packed = _pack_bits([bool(v) for v in (result or [])])
        return bytes([req.function, len(packed)]) + packed
    if req.function == WRITE_MULTIPLE_REGISTERS:
        return struct.pack(">BHH", req.function, req.address, len(req.values))
    # Single writes answer with an exact echo of the request.
    return encode_request(req)


def encode_exception(function: int, code: int) -> bytes:
    """An exception response PDU: function code with the high bit set, then the code."""
    return bytes([(function | 0x80) & 0xFF, code & 0xFF])


def decode_response(req: Request, pdu: bytes) -> Result:
    """Check a response PDU against the request it answers and return its data.

    Raises ModbusExceptionResponse for an exception reply and ProtocolError for anything that
    does not fit the request (other function, wrong length, wrong echo).
    """
    if len(pdu) < 2:
        raise ProtocolError(f"response PDU of {len(pdu)} bytes is too short")
    if pdu[0] == req.function | 0x80:
        if len(pdu) != 2:
            raise ProtocolError("exception response must be 2 bytes")
        raise ModbusExceptionResponse(req.function, pdu[1])
    if pdu[0] != req.function:
        raise ProtocolError(f"response function {pdu[0]:#04x}, expected {req.function:#04x}")
    if req.function == READ_HOLDING_REGISTERS:
        return _decode_registers(req, pdu)
    if req.function == READ_COILS:
        return _decode_coils(req, pdu)
    _check_write_echo(req, pdu)
    return None


def _decode_registers(req: Request, pdu: bytes) -> list[int]:
    if pdu[1] != 2 * req.count or len(pdu) != 2 + 2 * req.count:
        raise ProtocolError(f"read of {req.count} registers answered with {pdu[1]} bytes")
    return list(struct.unpack(f">{req.count}H", pdu[2:]))


def _decode_coils(req: Request, pdu: bytes) -> list[bool]:
    nbytes = (req.count + 7) // 8
    if pdu[1] != nbytes or len(pdu) != 2 + nbytes:
        raise ProtocolError(f"read of {req.count} coils answered with {pdu[1]} bytes")
    return _unpack_bits(pdu[2:], req.count)


def _check_write_echo(req: Request, pdu: bytes) -> None:
    expected = encode_response(req, None)
    if pdu != expected:
        raise ProtocolError(f"write response {pdu.hex()} does not echo the request")


def _pack_bits(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def _unpack_bits(data: bytes, count: int) -> list[bool]:
    return [bool(data[i // 8] >> (i % 8) & 1) for i in range(count)]
