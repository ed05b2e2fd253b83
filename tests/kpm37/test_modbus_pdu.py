"""PDU, CRC and framing rules of our Modbus stack, checked against known wire bytes."""

from __future__ import annotations

import asyncio

import pytest

from kpm37.errors import CrcError, ModbusExceptionResponse, ProtocolError
from kpm37.modbus import pdu
from kpm37.modbus.crc import crc_bytes
from kpm37.modbus.framing import Frame, RtuFramer, SocketFramer


def test_crc_matches_the_textbook_read_request() -> None:
    # 01 03 00 00 00 0A C5 CD is the classic example frame from the Modbus RTU spec.
    assert crc_bytes(bytes.fromhex("01030000000A")) == bytes.fromhex("C5CD")


def test_requests_encode_to_spec_bytes() -> None:
    assert pdu.encode_request(pdu.read_registers(1, 0x30, 2)).hex() == "0300300002"
    assert pdu.encode_request(pdu.write_coil(1, 0, True)).hex() == "050000ff00"
    assert pdu.encode_request(pdu.write_registers(1, 2, [1, 0x1234])).hex() == (
        "1000020002040001" + "1234"
    )


@pytest.mark.parametrize(
    "request_",
    [
        pdu.read_registers(7, 0x30, 125),
        pdu.read_coils(7, 0, 9),
        pdu.write_coil(7, 1, False),
        pdu.Request(7, pdu.WRITE_SINGLE_REGISTER, 5, values=(0xBEEF,)),
        pdu.write_registers(7, 0x100, list(range(123))),
    ],
)
def test_request_round_trips_through_decode(request_: pdu.Request) -> None:
    assert pdu.decode_request(7, pdu.encode_request(request_)) == request_


def test_responses_round_trip() -> None:
    read = pdu.read_registers(1, 0, 3)
    assert pdu.decode_response(read, pdu.encode_response(read, [1, 2, 65535])) == [1, 2, 65535]
    coils = pdu.read_coils(1, 0, 10)
    bits = [True, False, True] + [False] * 6 + [True]
    assert pdu.decode_response(coils, pdu.encode_response(coils, bits)) == bits
    write = pdu.write_registers(1, 4, [9, 9])
    assert pdu.decode_response(write, pdu.encode_response(write, None)) is None


def test_exception_reply_is_typed() -> None:
    read = pdu.read_registers(1, 0x9000, 2)
    with pytest.raises(ModbusExceptionResponse) as info:
        pdu.decode_response(read, pdu.encode_exception(3, pdu.ILLEGAL_DATA_ADDRESS))
    assert (info.value.function, info.value.code) == (3, 2)


@pytest.mark.parametrize(
    "reply",
    [bytes.fromhex("0302000100"), bytes.fromhex("0104000000ff"), b"\x03", bytes.fromhex("0402")],
)
def test_malformed_replies_are_protocol_errors(reply: bytes) -> None:
    with pytest.raises(ProtocolError):
        pdu.decode_response(pdu.read_registers(1, 0, 2), reply)


def test_write_reply_must_echo_the_request() -> None:
    write = pdu.write_registers(1, 4, [9, 9])
    with pytest.raises(ProtocolError, match="echo"):
        pdu.decode_response(write, bytes.fromhex("1000040003"))


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(ValueError, match="count"):
        pdu.read_registers(1, 0, 126)
    with pytest.raises(ValueError, match="values"):
        pdu.write_registers(1, 0, [70000])
    with pytest.raises(ModbusExceptionResponse) as info:
        pdu.decode_request(1, bytes.fromhex("2b0e0100"))
    assert info.value.code == pdu.ILLEGAL_FUNCTION


def _read(framer: RtuFramer | SocketFramer, data: bytes, *, request: bool) -> Frame:
    async def go() -> Frame:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await framer.read_frame(reader, request=request)

    return asyncio.run(go())


def test_rtu_framer_finds_frame_ends_by_function() -> None:
    framer = RtuFramer()
    write = framer.encode(3, pdu.encode_request(pdu.write_registers(3, 0, [1, 2, 3])))
    trailing = b"\x99"  # bytes after the frame must stay unread
    frame = _read(framer, write + trailing, request=True)
    assert frame.pdu == pdu.encode_request(pdu.write_registers(3, 0, [1, 2, 3]))
    answer = framer.encode(3, pdu.encode_response(pdu.read_registers(3, 0, 2), [7, 8]))
    assert _read(framer, answer, request=False).pdu[-4:] == bytes.fromhex("00070008")


def test_rtu_framer_rejects_bad_crc() -> None:
    framer = RtuFramer()
    good = framer.encode(1, pdu.encode_exception(3, 2))
    with pytest.raises(CrcError):
        _read(framer, good[:-1] + bytes([good[-1] ^ 1]), request=False)


def test_socket_framer_checks_header() -> None:
    with pytest.raises(ProtocolError, match="protocol"):
        _read(SocketFramer(), bytes.fromhex("000100070003010302"), request=False)
    frame = _read(SocketFramer(), SocketFramer().encode(9, b"\x03\x00\x00\x00\x01", 42),
                  request=True)
    assert (frame.unit, frame.transaction) == (9, 42)
