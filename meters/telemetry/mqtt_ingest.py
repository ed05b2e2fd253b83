"""The MQTT ingest process: paho-mqtt 2 client, persistent session, ack after commit.

MQTT 5 with a fixed client id, clean start off and a session expiry, so the broker keeps what
arrives while the process is down; QoS 1 shared subscriptions ($share/<group>/<topic>) so several
processes split the load. ``manual_ack``: a packet is acknowledged only after
:class:`PacketBatcher` reports its content committed. The embedded amqtt broker refuses MQTT 5
(CONNACK "unsupported protocol version", or no CONNACK at all once the CONNECT carries
properties); ``protocol="auto"`` then falls back to MQTT 3.1.1 with ``clean_session=False`` and
plain subscriptions.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

import paho.mqtt.client as paho
from django.db import Error as DatabaseError
from django.db import close_old_connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from kpm37.mqtt.link import parse_url
from kpm37.mqtt.payload import MqttMessage
from kpm37.mqtt.topics import DAY_DATA, ENY_NOW, RT_DATA, TELEIND
from meters.telemetry.batching import PacketBatcher, parse_packet
from meters.telemetry.dead_letters import Rejected

log = logging.getLogger(__name__)

INGEST_TOPICS = (RT_DATA, ENY_NOW, DAY_DATA, TELEIND)
UNSUPPORTED_PROTOCOL = (1, 132)  # 3.1.1 and MQTT 5 reason codes for "unsupported version"


class ConnectError(RuntimeError):
    """The broker could not be reached or refused the connection; says why."""


@dataclass(frozen=True)
class IngestOptions:
    """How to connect and how big a batch is."""

    url: str
    client_id: str
    group: str = "kpm-fleet-ingest"
    shared: bool = True  # $share/<group>/ so several processes split the load (MQTT 5)
    protocol: str = "auto"  # "3", "5" or "auto"
    session_expiry_s: int = 7 * 24 * 3600
    batch_size: int = 500
    batch_wait_s: float = 0.2
    quiet_timeout_s: float = 5.0
    connect_timeout_s: float = 10.0


class _Connection:
    """One paho client and the queue its network thread fills."""

    def __init__(self, options: IngestOptions, version: int) -> None:
        self.options = options
        self.version = version
        self.inbox: queue.Queue[tuple[int, paho.MQTTMessage, MqttMessage | Rejected]] = \
            queue.Queue()
        # Packet ids are only meaningful on the connection that delivered them: after a
        # reconnect the broker redelivers what was unacknowledged and may reuse freed ids, so
        # an ack carried over from an older connection could acknowledge an unstored message.
        self.generation = 0
        self.connected = threading.Event()
        self.refused: str | None = None
        self.refused_code: int | None = None
        self.dropped = threading.Event()  # closed before any CONNACK
        kwargs = {"clean_session": False} if version == paho.MQTTv311 else {}
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=options.client_id,
                                  protocol=version, manual_ack=True, **kwargs)
        self.client.on_connect = self._on_connect
        # Parsed here, in paho's network thread: that overlaps the main thread's waits on the
        # database (which release the GIL), so parsing is off the commit loop.
        self.client.on_message = lambda _c, _u, msg: self.inbox.put(
            (self.generation, msg, parse_packet(msg.topic, msg.payload)))
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    def topics(self) -> list[str]:
        if self.version == paho.MQTTv5 and self.options.shared:
            return [f"$share/{self.options.group}/{t}" for t in INGEST_TOPICS]
        return list(INGEST_TOPICS)

    def _on_connect(self, client: paho.Client, _userdata: object, _flags: object,
                    reason: object, _props: object) -> None:
        if getattr(reason, "is_failure", False):
            self.refused, self.refused_code = str(reason), int(getattr(reason, "value", 0))
            client.disconnect()
            return
        self.generation += 1
        log.warning("ingest %s (re)connected, session present: %s", self.options.client_id,
                    getattr(_flags, "session_present", "?"))
        # Subscribing on every (re)connect is harmless with a kept session and needed without.
        if self.version == paho.MQTTv5:
            client.subscribe([(t, SubscribeOptions(qos=1)) for t in self.topics()])
        else:
            client.subscribe([(t, 1) for t in self.topics()])
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        if not self.connected.is_set():
            self.dropped.set()

    def start(self) -> None:
        address = parse_url(self.options.url)
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        try:
            if self.version == paho.MQTTv5:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.options.session_expiry_s
                props.ReceiveMaximum = min(65535, 2 * self.options.batch_size)
                self.client.connect(address.host, address.port, keepalive=30,
                                    clean_start=False, properties=props)
            else:
                self.client.connect(address.host, address.port, keepalive=30)
        except OSError as exc:
            raise ConnectError(f"cannot reach the broker at {self.options.url}: {exc}") from exc
        self.client.loop_start()

    def wait_connected(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.connected.wait(0.05):
            if self.refused or self.dropped.is_set() or time.monotonic() > deadline:
                self.stop()
                why = self.refused or ("closed the connection" if self.dropped.is_set()
                                       else "sent no CONNACK in time")
                raise ConnectError(f"broker {self.options.url} refused: {why}")

    def may_fall_back(self) -> bool:
        """Whether the failure looks like a broker that does not speak this version."""
        return self.refused_code in UNSUPPORTED_PROTOCOL or self.refused is None

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(options: IngestOptions) -> _Connection:
    """Connect with MQTT 5, 3.1.1, or 5 falling back to 3.1.1 when the broker refuses it."""
    versions = {"5": [paho.MQTTv5], "3": [paho.MQTTv311],
                "auto": [paho.MQTTv5, paho.MQTTv311]}[options.protocol]
    for version in versions:
        last = version == versions[-1]
        conn = _Connection(options, version)
        conn.start()
        try:
            # A 3.1.1-only broker may just drop an MQTT 5 CONNECT: don't wait long for it.
            conn.wait_connected(options.connect_timeout_s if last else
                                min(3.0, options.connect_timeout_s))
            return conn
        except ConnectError:
            if last or not conn.may_fall_back():
                raise
            log.warning("broker refused MQTT 5; falling back to MQTT 3.1.1")
    raise AssertionError("unreachable")


class IngestRunner:
    """Moves packets from the connection into committed batches until told to stop."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.batcher = PacketBatcher(quiet_timeout_s=options.quiet_timeout_s)
        self.stop_event = threading.Event()
        self.conn: _Connection | None = None

    def run(self, run_for_s: float | None = None) -> None:
        """Connect and ingest until ``stop()`` (or ``run_for_s`` seconds)."""
        self.conn = connect(self.options)
        proto = "MQTT 5" if self.conn.version == paho.MQTTv5 else "MQTT 3.1.1"
        log.warning("ingest %s connected to %s with %s; topics %s", self.options.client_id,
                    self.options.url, proto, ", ".join(self.conn.topics()))
        until = None if run_for_s is None else time.monotonic() + run_for_s
        try:
            while not self.stop_event.is_set() and (until is None or time.monotonic() < until):
                self._collect()
                self._commit(flush=False)
        finally:
            self._commit(flush=True)
            self.conn.stop()

    def stop(self) -> None:
        self.stop_event.set()

    def _collect(self) -> None:
        assert self.conn is not None
        deadline = time.monotonic() + self.options.batch_wait_s
        while len(self.batcher) < self.options.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                generation, msg, parsed = self.conn.inbox.get(timeout=remaining)
            except queue.Empty:
                return
            self.batcher.feed_parsed(parsed, token=(generation, msg.mid, msg.qos))

    def _commit(self, *, flush: bool) -> None:
        assert self.conn is not None
        try:
            result, tokens = self.batcher.commit(flush=flush)
        except DatabaseError as exc:
            # Nothing was acknowledged: the batch stays held and is retried; the broker keeps
            # redelivering meanwhile. Drop the broken connection so the retry opens a new one.
            log.error("database error, batch kept for retry: %s", exc)
            close_old_connections()
            time.sleep(1)
            return
        for token in tokens:
            self._ack(token)
        if result.stored or result.duplicates or result.dead:
            log.info("%s", result)

    def _ack(self, token: Hashable) -> None:
        assert self.conn is not None
        generation, mid, qos = token  # type: ignore[misc]
        # A packet from an older connection is not acknowledged: the broker redelivers it on
        # this one, and the unique (meter, source, time) turns the repeat into a duplicate.
        if qos > 0 and generation == self.conn.generation:
            self.conn.client.ack(mid, qos)
