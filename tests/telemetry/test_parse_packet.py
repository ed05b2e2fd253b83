"""parse_packet runs in the MQTT client's thread: it never raises, whatever the payload, and
what it returns is what feed would have made of the same packet."""

from __future__ import annotations

from typing import Any

import pytest

from kpm37.mqtt.payload import MqttMessage
from meters.telemetry.batching import PacketBatcher, parse_packet
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.dead_letters import Rejected
from tests.telemetry.conftest import capture_lines

GOOD = capture_lines("kpm33b_MQTT_RT_DATA.json")[0]


def test_a_good_packet_is_parsed_into_a_message() -> None:
    parsed = parse_packet("MQTT_RT_DATA", GOOD)
    assert isinstance(parsed, MqttMessage) and parsed.meter_code == "33B1225950027"


@pytest.mark.parametrize(("payload", "kind"), [
    (b"{not json", DeadLetterKind.MALFORMED),
    (b"[1, 2]", DeadLetterKind.MALFORMED),
    (b"\xff\xfe\x00", DeadLetterKind.MALFORMED),
])
def test_a_bad_packet_becomes_its_dead_letter_instead_of_raising(payload: bytes, kind: str
                                                                 ) -> None:
    parsed = parse_packet("MQTT_RT_DATA", payload)
    assert isinstance(parsed, Rejected) and parsed.kind == kind and parsed.payload == payload


def test_an_oversized_packet_is_refused_before_parsing(settings: Any) -> None:
    settings.TELEMETRY_MAX_MESSAGE_BYTES = 100
    parsed = parse_packet("MQTT_RT_DATA", GOOD)
    assert isinstance(parsed, Rejected) and parsed.kind == DeadLetterKind.TOO_LARGE


def test_feeding_parsed_packets_holds_and_releases_tokens_as_feed_does() -> None:
    by_feed, by_parsed = PacketBatcher(), PacketBatcher()
    for token, payload in enumerate([GOOD, b"{not json"]):
        by_feed.feed("MQTT_RT_DATA", payload, token=token)
        by_parsed.feed_parsed(parse_packet("MQTT_RT_DATA", payload), token=token)
    assert len(by_feed) == len(by_parsed) == 2
    assert by_feed.holding == by_parsed.holding == 0
