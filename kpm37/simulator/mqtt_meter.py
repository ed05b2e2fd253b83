"""Simulated 4G/WiFi meters speaking Compere MQTT V1.9 to a real broker.

Each meter is its own MQTT client (client id = its code, MQTT 3.1.1 by default so it works on
the embedded amqtt broker). It publishes MQTT_RT_DATA at its second-level interval,
MQTT_ENY_NOW at its minute-level interval and MQTT_DAY_DATA after local midnight, in its own
local clock, optionally split into 9 / 11 packets; it honours the meter's faults and answers
the commands on its topics through :class:`kpm37.mqtt.meter_side.MeterSide`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from kpm37.errors import ConnectionLost
from kpm37.mqtt import topics as t
from kpm37.mqtt.link import MqttLink
from kpm37.mqtt.meter_side import MeterLike, MeterSide, tags_for
from kpm37.mqtt.outgoing import SPLIT_PACKETS, teleind_packet, telemetry_packets, zeroed

log = logging.getLogger(__name__)

MAX_SLEEP_S = 0.5  # how often a meter looks at its clock for midnight and due uploads
ZERO_MESSAGE_OFFSET = timedelta(seconds=1)


class MqttMeterSession:
    """One simulated meter's MQTT connection, upload schedule and command handling."""

    def __init__(
        self, meter: MeterLike, url: str, *, split_packets: bool = False, speed: float = 1.0,
        protocol: str = "3.1.1", interval_override_s: float | None = None,
    ) -> None:
        if speed <= 0 or (interval_override_s is not None and interval_override_s <= 0):
            raise ValueError("speed and interval_override_s must be positive")
        self.meter = meter
        self.side = MeterSide(meter)
        self.split_packets = split_packets
        self.speed = speed
        self.interval_override_s = interval_override_s
        self.suffix = t.topic_suffix(meter.code)
        self.link = MqttLink(url, self._on_command, client_id=meter.code, protocol=protocol)
        self.published: dict[str, int] = {}  # topic -> messages published, for tests and demo
        self._due = {t.RT_DATA: 0.0, t.ENY_NOW: 0.0}
        self._last_date = self._local().date()

    async def connect(self) -> None:
        """Connect and subscribe to this meter's command topics."""
        await self.link.connect()
        await self.link.subscribe(*(f"{base}_{self.suffix}" for base in t.COMMAND_BASES))

    async def run(self) -> None:
        """Publish on schedule until cancelled."""
        while True:
            now = time.monotonic()
            for topic, due in self._due.items():
                if now >= due:
                    self._due[topic] = now + self._interval_s(topic)
                    self._publish_telemetry(topic)
            self._check_midnight()
            wait = min(self._due.values()) - time.monotonic()
            await asyncio.sleep(min(max(wait, 0.01), MAX_SLEEP_S))

    async def close(self) -> None:
        """Disconnect."""
        await self.link.close()

    def _interval_s(self, topic: str) -> float:
        if self.interval_override_s is not None:
            return self.interval_override_s
        if topic == t.RT_DATA:
            return self.side.interval("second") / self.speed
        return self.side.interval("minute") * 60 / self.speed

    def _local(self) -> datetime:
        with self.meter.lock:
            local: datetime = self.meter.clock.now_local()
        return local.replace(microsecond=0)

    def _fault(self, name: str) -> bool:
        return bool(getattr(self.meter.faults, name, False))

    def _publish_telemetry(self, topic: str) -> None:
        with self.meter.lock:
            self.meter.tick()
            values = self.meter.quantities()
        self._publish_tags(topic, self._local(), tags_for(self.meter, topic, values))

    def _publish_tags(self, topic: str, local: datetime, tags: dict[str, float]) -> None:
        if self._fault("silent") or not tags:
            return
        packets = SPLIT_PACKETS.get(topic, 1) if self.split_packets else 1
        messages = [(local, tags)]
        if self._fault("duplicate_messages"):
            messages.append((local, tags))
        if self._fault("zero_messages"):
            # Stamped a second on, as a message of its own: at the real one's time it would
            # only look like a duplicate of it, and never be seen as all zero.
            messages.insert(1, (local + ZERO_MESSAGE_OFFSET, zeroed(tags)))
        for stamp, message in messages:
            for payload in telemetry_packets(self.meter.code, topic, stamp, message, packets):
                self._send(topic, payload, qos=0)
        self.published[topic] = self.published.get(topic, 0) + 1

    def _check_midnight(self) -> None:
        local = self._local()
        if local.date() == self._last_date:
            return
        self._last_date = local.date()
        midnight = local.replace(hour=0, minute=0, second=0)
        with self.meter.lock:
            values = self.meter.quantities()
        self._publish_tags(t.DAY_DATA, midnight, tags_for(self.meter, t.DAY_DATA, values))

    def _send(self, topic: str, payload: bytes, qos: int = 1) -> None:
        try:
            self.link.publish(topic, payload, qos=qos)
        except ConnectionLost as exc:  # broker away: paho reconnects, this upload is lost
            log.warning("%s: %s", self.meter.code, exc)

    def _on_command(self, topic: str, payload: bytes) -> None:
        parts = t.split_command_topic(topic)
        if parts is None or parts[1] != self.suffix or self._fault("silent"):
            return
        reply_topic, replies = self.side.handle(parts[0], payload)
        for reply in replies:
            if reply_topic is not None:
                self._send(reply_topic, _encode(reply))
        if parts[0] == t.TELECTRL and replies and replies[0].get("code") == "01":
            with self.meter.lock:
                bits = self.side.do_bits()
            self._send(t.TELEIND, teleind_packet(self.meter.code, self._local(), 0, bits))


def _encode(reply: dict[str, object]) -> bytes:
    return json.dumps(reply, separators=(",", ":")).encode()


async def serve_mqtt_meters(
    meters: Sequence[MeterLike], url: str, *, split_packets: bool = False, speed: float = 1.0,
    protocol: str = "3.1.1", interval_override_s: float | None = None,
) -> None:
    """Run every meter as its own MQTT client until cancelled."""
    sessions = [
        MqttMeterSession(m, url, split_packets=split_packets, speed=speed, protocol=protocol,
                         interval_override_s=interval_override_s)
        for m in meters
    ]
    try:
        await asyncio.gather(*(s.connect() for s in sessions))
        await asyncio.gather(*(s.run() for s in sessions))
    finally:
        for session in sessions:
            with contextlib.suppress(Exception):
                await session.close()
