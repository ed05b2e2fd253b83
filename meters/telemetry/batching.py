"""From raw MQTT packets to committed batches, and which packets may be acknowledged.

Independent of the MQTT client: feed packets with an opaque ``token`` (the MQTT packet id), then
``commit()`` stores every complete message and dead letter in one transaction and returns the
tokens whose content is now committed. Packets of a message still being reassembled are held
back, so acknowledging only returned tokens never loses anything: an unacknowledged packet is
redelivered after a crash, and the unique (meter, source, time) drops the repeat.

Nothing in a payload can stop ingest: a packet over TELEMETRY_MAX_MESSAGE_BYTES, or one that
does not parse, is a dead letter; if storing a batch fails for any reason but the database
being unreachable, its messages are stored one by one and a message that cannot be stored even
alone becomes an "unstorable" dead letter. Either way it is acknowledged and counted, and the
broker does not redeliver it to the next process for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from datetime import datetime

from django.db import InterfaceError, OperationalError, ProgrammingError
from django.utils import timezone

from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import MqttMessage, parse_message
from kpm37.mqtt.reassembly import Reassembler
from meters.telemetry import conf
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.dead_letters import Rejected
from meters.telemetry.mqtt_services import mqtt_batch_ingest
from meters.telemetry.store import BatchResult

log = logging.getLogger(__name__)

Key = tuple[str, str, datetime]


def database_away(exc: Exception) -> bool:
    """The database is down, unreachable or not migrated (SQLSTATE class 42: undefined table
    or column, no privilege): keep the batch and retry it. No payload causes these, so nothing
    becomes a dead letter because of them."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    state = getattr(exc.__cause__, "sqlstate", None) or ""
    return isinstance(exc, ProgrammingError) and state.startswith("42")


def parse_packet(topic: str, payload: bytes) -> MqttMessage | Rejected:
    """One packet parsed, or the dead letter it is; touches no database, safe in any thread."""
    payload = bytes(payload)
    limit = conf.get("TELEMETRY_MAX_MESSAGE_BYTES")
    if len(payload) > limit:
        return Rejected(topic=topic, payload=payload, kind=DeadLetterKind.TOO_LARGE,
                        reason=f"message of {len(payload)} bytes; the limit is {limit} bytes "
                               "(TELEMETRY_MAX_MESSAGE_BYTES)")
    try:
        return parse_message(payload, topic)
    except PayloadError as exc:
        return Rejected(topic=topic, payload=payload, reason=str(exc))
    except Exception as exc:  # a parser bug must not stop ingest either
        log.exception("unexpected error parsing a packet on %s", topic)
        return Rejected(topic=topic, payload=payload,
                        reason=f"payload: unreadable ({type(exc).__name__})")


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
        """Parse one packet; one that cannot be taken becomes a dead letter at the next commit."""
        self.feed_parsed(parse_packet(topic, payload), token)

    def feed_parsed(self, packet: MqttMessage | Rejected, token: Hashable = None) -> None:
        """Take a packet ``parse_packet`` already parsed (``ingest_mqtt`` parses in the MQTT
        client's thread, overlapping the main thread's waits on the database)."""
        if isinstance(packet, Rejected):
            self._reject(packet, token)
            return
        key = (packet.meter_code, packet.topic, packet.time)
        self._held.setdefault(key, []).append(token)
        self._complete(self.reassembler.feed(packet))

    def _reject(self, letter: Rejected, token: Hashable) -> None:
        self._rejected.append(letter)
        self._ready.append(token)

    def _complete(self, messages: list[MqttMessage]) -> None:
        for message in messages:
            self._messages.append(message)
            self._ready += self._held.pop((message.meter_code, message.topic, message.time), [])

    def commit(self, *, flush: bool = False, received_at: datetime | None = None
               ) -> tuple[BatchResult, list[Hashable]]:
        """Store what is complete (everything if ``flush``); return the result and ack tokens.

        Raises only when the database is away (see database_away): then nothing is returned
        for acknowledgement and the same content is stored by the next call."""
        self._complete(self.reassembler.flush() if flush else self.reassembler.poll())
        if not self._messages and not self._rejected:
            tokens, self._ready = self._ready, []
            return BatchResult(), tokens
        at = received_at or timezone.now()
        try:
            result = mqtt_batch_ingest(messages=self._messages, rejected=self._rejected,
                                       received_at=at)
            self._messages, self._rejected = [], []
        except Exception as exc:
            if database_away(exc):
                raise
            log.exception("storing a batch of %d messages failed; storing them one by one",
                          len(self._messages))
            result = self._one_by_one(at)
        tokens, self._ready = self._ready, []
        self.totals.stored += result.stored
        self.totals.duplicates += result.duplicates
        self.totals.dead.update(result.dead)
        return result, tokens

    def _one_by_one(self, at: datetime) -> BatchResult:
        """Each held message in its own transaction; consumed as it commits, so a retry after
        the database went away redoes only the rest."""
        total = BatchResult()
        while self._messages:
            message = self._messages[0]
            try:
                result = mqtt_batch_ingest(messages=[message], received_at=at)
            except Exception as exc:
                if database_away(exc):
                    raise
                self._rejected.append(_unstorable(message, exc))
            else:
                _add(total, result)
            self._messages.pop(0)
        while self._rejected:
            _add(total, _store_letter(self._rejected[0], at))
            self._rejected.pop(0)
        return total


def _unstorable(message: MqttMessage, exc: Exception) -> Rejected:
    log.error("message from %s on %s could not be stored: %r", message.meter_code,
              message.topic, exc)
    detail = str(exc).replace("\n", " ")[:200]
    return Rejected(topic=message.topic, payload=b"\n".join(message.raw),
                    kind=DeadLetterKind.UNSTORABLE, meter_code=message.meter_code,
                    reason=f"could not be stored: {type(exc).__name__}: {detail}")


def _store_letter(letter: Rejected, at: datetime) -> BatchResult:
    """One dead letter alone; if even that fails, a bare one without payload or details."""
    try:
        return mqtt_batch_ingest(messages=[], rejected=[letter], received_at=at)
    except Exception as exc:
        if database_away(exc):
            raise
        log.error("dead letter on %s could not be stored (%r); storing a bare one",
                  letter.topic, exc)
    bare = Rejected(topic="", payload=b"", kind=DeadLetterKind.UNSTORABLE,
                    reason=f"a message of {len(letter.payload)} bytes could not be stored, "
                           "not even as a dead letter")
    return mqtt_batch_ingest(messages=[], rejected=[bare], received_at=at)


def _add(total: BatchResult, result: BatchResult) -> None:
    total.stored += result.stored
    total.duplicates += result.duplicates
    total.dead.update(result.dead)
