"""Issue 7: whatever a payload holds, parsing returns a message or raises PayloadError (naming
the field, quoting at most a short excerpt), and reassembly holds bounded packets and bytes."""

from __future__ import annotations

import json

import pytest

from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import MAX_TAGS, MqttMessage, parse_message, to_utc
from kpm37.mqtt.reassembly import Reassembler

CODE = "3071025100001"
ARABIC_ONE, ARABIC_TWO = "\u0661", "\u0662"  # str.isdigit() and isalnum() say True
HEAD = f'{{"id":"{CODE}","time":"20260301120000",'.encode()


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


HOSTILE = {
    "nested 100,000 deep": deep(100_000),
    "a tag nested 100,000 deep": HEAD + b'"ua":' + deep(100_000) + b"}",
    "an object nested 100,000 deep": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "400 digits": HEAD + b'"ua":' + b"1" * 400 + b"}",
    "5,000 digits": HEAD + b'"ua":' + b"9" * 5000 + b"}",
    "5,000 digits in id": b'{"id":' + b"7" * 5000 + b"}",
    "400 digits as text": HEAD + b'"ua":"' + b"1" * 400 + b'"}',
    "1e999": HEAD + b'"ua":1e999}',
    "NaN": HEAD + b'"ua":NaN}',
    "-Infinity": HEAD + b'"ua":-Infinity}',
    "beyond any quantity": HEAD + b'"ua":1e300}',
    "isend nested": HEAD + b'"isend":' + deep(900) + b"}",
    "isend huge": HEAD + b'"isend":"' + b"1" * 100 + b'"}',
    "not an object": b"[1,2,3]",
    "a string": b'"hello"',
    "a number": b"42",
    "null": b"null",
    "binary": bytes(range(256)),
    "invalid UTF-8": b'{"id":"\xff\xfe"}',
    "too many tags": json.dumps({"id": CODE, "time": "20260301120000",
                                 **{f"t{n}": n for n in range(MAX_TAGS + 1)}}).encode(),
    "a 60 kB tag name": HEAD + b'"' + b"n" * 60_000 + b'":"x"}',
    "time as a number": f'{{"id":"{CODE}","time":20260301120000}}'.encode(),
    "time in Arabic digits": json.dumps({"id": CODE, "time": ARABIC_TWO * 14}).encode(),
    "id in Arabic digits": json.dumps({"id": ARABIC_ONE * 13, "time": "20260301120000"},
                                      ensure_ascii=False).encode(),
}


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("topic", ["MQTT_RT_DATA", "MQTT_TELEIND"])
def test_hostile_payload_raises_only_payload_error(payload: bytes, topic: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_message(payload, topic)
    assert len(str(caught.value)) < 300  # never a copy of the payload


def test_teleind_bits_are_bounded() -> None:
    body = HEAD + b'"value":"' + b"f" * 400 + b'@1"}'
    with pytest.raises(PayloadError, match="DI@DO"):
        parse_message(body, "MQTT_TELEIND")


@pytest.mark.parametrize(("local", "tz"), [("99991231235959", "America/New_York"),
                                           ("00010101000000", "Asia/Tokyo")])
def test_times_utc_cannot_hold_are_payload_errors(local: str, tz: str) -> None:
    message = parse_message(HEAD.replace(b"20260301120000", local.encode()) + b'"ua":1}',
                            "MQTT_RT_DATA")
    with pytest.raises(PayloadError, match="outside the years"):
        to_utc(message.time, tz)


def packet(time: str, isend: str, padding: int = 0) -> MqttMessage:
    body = json.dumps({"id": CODE, "time": time, "isend": isend, "ua": 1})
    return parse_message(body + " " * padding, "MQTT_RT_DATA")  # JSON may end in whitespace


def test_a_message_that_never_ends_is_complete_at_max_packets() -> None:
    r = Reassembler(max_packets=4)
    done = []
    for n in range(10):
        done += r.feed(packet("20260301120000", "0"), now=n)
    assert [len(m.raw) for m in done] == [4, 4] and len(r) == 1


def test_bytes_held_for_reassembly_are_bounded() -> None:
    r = Reassembler(max_bytes=10_000)
    done = []
    for minute in range(20):
        done += r.feed(packet(f"2026030112{minute:02d}00", "0", padding=1000), now=0)
    held = sum(len(raw) for m in r.flush() for raw in m.raw)
    assert done and held <= 10_000
