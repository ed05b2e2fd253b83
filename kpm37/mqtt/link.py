"""One paho-mqtt 2 client whose network thread is bridged to an asyncio loop.

paho runs its own thread (``loop_start``); every callback hops onto the asyncio loop with
``call_soon_threadsafe`` so callers never share state with that thread. ``protocol`` is "5",
"3.1.1" or "auto": auto tries MQTT 5 and falls back to 3.1.1 when the broker refuses it
(amqtt, the embedded broker, speaks 3.1.1 only; real meters may be 3.1.1 clients too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from kpm37.errors import ConnectionLost, ValueOutOfRange

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
PROTOCOLS = {"5": paho.MQTTv5, "3.1.1": paho.MQTTv311}


@dataclass(frozen=True)
class BrokerAddress:
    """Where a broker listens, parsed from ``mqtt://[user[:password]@]host[:port]``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> BrokerAddress:
    """Parse an MQTT URL; ValueOutOfRange("url", ...) when it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port or 1883
    except ValueError as exc:
        raise ValueOutOfRange("url", f"not an MQTT URL: {url!r} ({exc})") from None
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueOutOfRange("url", f"expected mqtt://host[:port], got {url!r}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port, user, password)


class MqttLink:
    """A connected MQTT client for asyncio code: subscribe, publish, receive via a handler."""

    def __init__(
        self, url: str, on_message: MessageHandler, *, client_id: str | None = None,
        protocol: str = "auto", connect_timeout_s: float = 5.0, keepalive_s: int = 30,
    ) -> None:
        if protocol not in ("auto", *PROTOCOLS):
            raise ValueOutOfRange("protocol", f"must be 'auto', '5' or '3.1.1', got {protocol!r}")
        self.address = parse_url(url)
        self.client_id = client_id or f"kpm-{uuid.uuid4().hex[:12]}"
        self.requested_protocol = protocol
        self.protocol: str | None = None  # the one actually in use once connected
        self.connect_timeout_s = connect_timeout_s
        self.keepalive_s = keepalive_s
        self._on_message = on_message
        self._topics: list[str] = []
        self._client: paho.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected: asyncio.Future[None] | None = None
        self._subacks: dict[int, asyncio.Future[None]] = {}

    async def connect(self) -> None:
        """Connect, trying MQTT 5 then 3.1.1 for "auto". ConnectionLost if neither works."""
        self._loop = asyncio.get_running_loop()
        choices = ["5", "3.1.1"] if self.requested_protocol == "auto" else [self.requested_protocol]
        errors = []
        for version in choices:
            try:
                await self._connect_with(version)
                self.protocol = version
                return
            except ConnectionLost as exc:
                errors.append(f"MQTT {version}: {exc}")
                await self._stop_client()
        raise ConnectionLost(f"{self.address.host}:{self.address.port}: " + "; ".join(errors))

    async def subscribe(self, *topics: str) -> None:
        """Subscribe (QoS 1), wait for the broker's SUBACK; again after every reconnect."""
        self._topics.extend(t for t in topics if t not in self._topics)
        client = self._require_client()
        assert self._loop is not None
        acks = []
        for topic in topics:
            result, mid = client.subscribe(topic, qos=1)
            if result != paho.MQTT_ERR_SUCCESS or mid is None:
                raise ConnectionLost(f"subscribe {topic}: {paho.error_string(result)}")
            # No await since subscribe(): the SUBACK hop cannot have run yet.
            acks.append(self._subacks.setdefault(mid, self._loop.create_future()))
        try:
            await asyncio.wait_for(asyncio.gather(*acks), self.connect_timeout_s)
        except TimeoutError:
            raise ConnectionLost(f"no SUBACK within {self.connect_timeout_s:g} s") from None

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Queue one message for sending (paho's publish is thread-safe and does not block)."""
        info = self._require_client().publish(topic, payload, qos=qos)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionLost(f"publish {topic}: {paho.error_string(info.rc)}")

    async def close(self) -> None:
        """Disconnect and stop the network thread."""
        await self._stop_client()

    async def _connect_with(self, version: str) -> None:
        assert self._loop is not None
        self._connected = self._loop.create_future()
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=PROTOCOLS[version]
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        client.on_connect = self._paho_connect
        client.on_connect_fail = self._paho_connect_fail
        client.on_disconnect = self._paho_disconnect
        client.on_message = self._paho_message
        client.on_subscribe = self._paho_subscribe
        self._client = client
        client.connect_async(self.address.host, self.address.port, self.keepalive_s)
        client.loop_start()
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), self.connect_timeout_s)
        except TimeoutError:
            raise ConnectionLost(f"no CONNACK within {self.connect_timeout_s:g} s") from None

    async def _stop_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        # loop_stop joins paho's thread, which may be sleeping in a reconnect back-off.
        await asyncio.to_thread(client.loop_stop)

    def _require_client(self) -> paho.Client:
        if self._client is None:
            raise ConnectionLost("not connected")
        return self._client

    def _hop(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback`` on the asyncio loop; drop it if the loop has already closed."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(callback, *args)

    def _settle(self, error: str | None) -> None:
        future = self._connected
        if future is None or future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(ConnectionLost(error))

    # --- paho thread callbacks: only hop to the loop ---------------------------------

    def _paho_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # Commands and replies are small and latency-bound: without this, Nagle plus
            # delayed ACKs add ~40 ms to each hop.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if reason.is_failure:
            self._hop(self._settle, f"broker refused connection: {reason}")
            return
        for topic in self._topics:  # re-subscribe after a reconnect
            client.subscribe(topic, qos=1)
        self._hop(self._settle, None)

    def _paho_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:
        self._hop(self._settle, "could not open a connection")

    def _paho_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._hop(self._settle, f"disconnected before CONNACK: {reason}")

    def _subscribed(self, mid: int) -> None:
        future = self._subacks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _paho_subscribe(self, _c: paho.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        self._hop(self._subscribed, mid)

    def _paho_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        self._hop(self._on_message, msg.topic, bytes(msg.payload))
