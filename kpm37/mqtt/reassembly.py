"""Assembling split V1.9 packets into whole messages, with bounded memory.

The document says the last packet carries ``"isend":"1"``, but its own examples contradict
that and real KPM33B meters send one packet. So a message is complete when a packet says so,
when the same meter sends the same topic with a different ``time`` (it has moved on), or after
a quiet timeout. Packets are keyed by (meter code, topic, time).
"""

from __future__ import annotations

import time as _time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime

from kpm37.mqtt.payload import MqttMessage

Key = tuple[str, str, datetime]


@dataclass
class _Pending:
    message: MqttMessage
    last_seen: float
    packets: list[bytes] = field(default_factory=list)


class Reassembler:
    """Feed packets in arrival order; collect the messages they complete.

    ``quiet_timeout_s``: emit a partial message this long after its last packet (see poll()).
    ``max_pending``: at most this many incomplete messages are held; the oldest is emitted
    early when a new one would exceed it. ``max_fields``: tags kept per message.
    ``max_packets``: a message is complete at this many packets, so a meter that never says
    ``isend`` and never changes its time cannot grow one message (and its raw evidence) forever.
    ``max_bytes``: raw bytes held across all incomplete messages; the oldest are emitted early
    beyond it, so memory stays bounded however many packets arrive within the quiet timeout.
    """

    def __init__(
        self, *, quiet_timeout_s: float = 5.0, max_pending: int = 10_000, max_fields: int = 512,
        max_packets: int = 64, max_bytes: int = 64 * 2**20,
    ) -> None:
        if quiet_timeout_s <= 0 or min(max_pending, max_fields, max_packets, max_bytes) < 1:
            raise ValueError("quiet_timeout_s, max_pending, max_fields, max_packets and "
                             "max_bytes must be positive")
        self.quiet_timeout_s = quiet_timeout_s
        self.max_pending = max_pending
        self.max_fields = max_fields
        self.max_packets = max_packets
        self.max_bytes = max_bytes
        self._bytes = 0  # raw bytes held in _pending
        self._pending: OrderedDict[Key, _Pending] = OrderedDict()
        self._latest: dict[tuple[str, str], Key] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def feed(self, packet: MqttMessage, now: float | None = None) -> list[MqttMessage]:
        """Add one packet; return the messages now complete (oldest first)."""
        now = _time.monotonic() if now is None else now
        key: Key = (packet.meter_code, packet.topic, packet.time)
        done = self._supersede(key)
        entry = self._pending.get(key)
        if entry is None:
            done += self._make_room()
            entry = self._pending[key] = _Pending(packet, now, list(packet.raw))
        else:
            entry.message = self._merge(entry.message, packet)
            entry.packets.extend(packet.raw)
            entry.last_seen = now
        self._bytes += sum(len(raw) for raw in packet.raw)
        self._latest[key[:2]] = key
        if packet.is_last_packet or len(entry.packets) >= self.max_packets:
            done.append(self._pop(key))
        while self._bytes > self.max_bytes:
            done.append(self._pop(next(iter(self._pending))))
        return done

    def poll(self, now: float | None = None) -> list[MqttMessage]:
        """Emit the messages that have been quiet for ``quiet_timeout_s`` or longer."""
        now = _time.monotonic() if now is None else now
        stale = [k for k, e in self._pending.items() if now - e.last_seen >= self.quiet_timeout_s]
        return [self._pop(k) for k in stale]

    def flush(self) -> list[MqttMessage]:
        """Emit everything still held (at shutdown)."""
        return [self._pop(k) for k in list(self._pending)]

    def _supersede(self, key: Key) -> list[MqttMessage]:
        previous = self._latest.get(key[:2])
        if previous is not None and previous != key and previous in self._pending:
            return [self._pop(previous)]
        return []

    def _make_room(self) -> list[MqttMessage]:
        done = []
        while len(self._pending) >= self.max_pending:
            oldest = next(iter(self._pending))
            done.append(self._pop(oldest))
        return done

    def _pop(self, key: Key) -> MqttMessage:
        entry = self._pending.pop(key)
        self._bytes -= sum(len(raw) for raw in entry.packets)
        if self._latest.get(key[:2]) == key:
            del self._latest[key[:2]]
        return replace(entry.message, raw=tuple(entry.packets))

    def _merge(self, held: MqttMessage, packet: MqttMessage) -> MqttMessage:
        room = self.max_fields - len(held.quantities) - len(held.unknown)
        quantities = dict(held.quantities)
        unknown = dict(held.unknown)
        for target, source in ((quantities, packet.quantities), (unknown, packet.unknown)):
            for name, value in source.items():
                if name in target or room > 0:
                    room -= name not in target
                    target[name] = value
        return replace(held, quantities=quantities, unknown=unknown, isend=packet.isend)
