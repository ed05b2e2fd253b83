"""From raw MQTT packets to committed batches, and which packets may be acknowledged.

Independent of the MQTT client: feed packets with an opaque ``token`` (the MQTT packet id), then
``commit()`` stores every complete message and dead letter in one transaction and returns the
tokens whose content is now committed. Packets of a message still being reassembled are held
back, so acknowledging only returned tokens never loses anything: an unacknowledged packet is
redelivered after a crash, and the unique (meter, source, time) drops the repeat.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

from django.utils import timezone

from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import MqttMessage, parse_message
from kpm37.mqtt.reassembly import Reassembler
from meters.telemetry.services import BatchResult, Rejected, mqtt_batch_ingest

Key = tuple[str, str, datetime]


class PacketBatcher:
    """Collects packets until ``commit()``; tracks which tokens each message consumed."""

    def __init__(self, *, quiet_timeout_s: float = 5.0) -> None:
        self.reassembler = Reassembler(quiet_timeout_s=quiet_timeout_s)
        self._held: dict[Key, list[Hashable]] = {}
        self._messages: list[MqttMessage] = []
        self._rejected: list[Rejected] = []
        self._ready: list[Hashable] = []
        self.totals = BatchResult()

    def __len__(self) -> int:
        """Packets waiting for the next commit (complete or rejected)."""
        return len(self._ready)

    @property
    def holding(self) -> int:
        """Packets of messages still being reassembled."""
        return sum(len(tokens) for tokens in self._held.values())

    def feed(self, topic: str, payload: bytes, token: Hashable = None) -> None:
        """Parse one packet; a malformed one becomes a dead letter at the next commit."""
        try:
            packet = parse_message(payload, topic)
        except PayloadError as exc:
            self._rejected.append(Rejected(topic=topic, payload=bytes(payload), reason=str(exc)))
            self._ready.append(token)
            return
        key = (packet.meter_code, packet.topic, packet.time)
        self._held.setdefault(key, []).append(token)
        self._complete(self.reassembler.feed(packet))

    def _complete(self, messages: list[MqttMessage]) -> None:
        for message in messages:
            self._messages.append(message)
            self._ready += self._held.pop((message.meter_code, message.topic, message.time), [])

    def commit(self, *, flush: bool = False, received_at: datetime | None = None
               ) -> tuple[BatchResult, list[Hashable]]:
        """Store what is complete (everything if ``flush``); return the result and ack tokens."""
        self._complete(self.reassembler.flush() if flush else self.reassembler.poll())
        if not self._messages and not self._rejected:
            tokens, self._ready = self._ready, []
            return BatchResult(), tokens
        result = mqtt_batch_ingest(messages=self._messages, rejected=self._rejected,
                                   received_at=received_at or timezone.now())
        tokens = self._ready
        self._messages, self._rejected, self._ready = [], [], []
        self.totals.stored += result.stored
        self.totals.duplicates += result.duplicates
        self.totals.dead.update(result.dead)
        return result, tokens
