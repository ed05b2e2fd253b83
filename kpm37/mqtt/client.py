"""MqttCommander: send V1.9 commands to meters and await their replies, from asyncio.

Each command carries a fresh 32-character oprid; the reply with the same oprid completes it.
A meter that does not answer within ``timeout_s`` raises DeviceTimeout; a meter that answers
code "02" raises WriteRefused with its message. A RECALL reply (V1.9 §4.6) carries the oprid
only in its first packet; the data packets that follow are matched by meter id, topic and the
month in their ``"time": "yyyyMM"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from kpm37.errors import DeviceTimeout, ProfileError
from kpm37.mqtt import commands as c
from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.link import MqttLink
from kpm37.mqtt.payload import TagMapping, decode_object, parse_message, split_known, to_number
from kpm37.mqtt.replies import Reply, parse_reply, raise_for_refusal, value_list
from kpm37.mqtt.topics import REPLY_TOPICS, TELEIND
from kpm37.profile import Profile

log = logging.getLogger(__name__)

RECALL_PACKETS = 4  # V1.9 §4.6: a header packet, then the frozen month in 3 data packets
RECALL_TOPIC = "MQTT_RECALL_REP"


@dataclass
class _Waiting:
    future: asyncio.Future[list[Reply]]
    packets: int
    replies: list[Reply] = field(default_factory=list)


class MqttCommander:
    """Commands to V1.9 meters over one broker connection. Use ``async with``.

    ``mapping`` is the profile's ``mqtt`` section, used to name recalled billing data. With
    ``profile``, register writes and upload intervals the meter would refuse are refused
    before they are sent (its ranges, choices and password rule).
    """

    def __init__(
        self, url: str, *, mapping: TagMapping | None = None, protocol: str = "auto",
        timeout_s: float = 10.0, client_id: str | None = None, profile: Profile | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.profile = profile
        self.mapping: TagMapping = mapping or (profile.mqtt if profile is not None else {})
        self._recalls: dict[tuple[str, str], str] = {}  # (meter code, yyyyMM) -> oprid
        self.link = MqttLink(url, self._on_reply, client_id=client_id, protocol=protocol)
        self._waiting: dict[str, _Waiting] = {}
        self._relays: dict[str, int] = {}  # meter code -> DO bits, from TELEIND and replies

    async def __aenter__(self) -> MqttCommander:
        await self.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect and subscribe to every reply topic."""
        await self.link.connect()
        await self.link.subscribe(*REPLY_TOPICS, TELEIND)

    async def close(self) -> None:
        """Disconnect; commands still waiting fail with DeviceTimeout."""
        for waiting in self._waiting.values():
            if not waiting.future.done():
                waiting.future.set_exception(DeviceTimeout("commander closed"))
        self._waiting.clear()
        await self.link.close()

    async def send(self, command: c.Command, packets: int = 1) -> list[Reply]:
        """Publish ``command`` and return its reply packets (checked for refusal)."""
        future: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()
        self._waiting[command.oprid] = _Waiting(future, packets)
        try:
            self.link.publish(command.topic, command.encode())
            replies = await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            raise DeviceTimeout(
                f"{command.topic}: no reply to oprid {command.oprid} in {self.timeout_s:g} s"
            ) from None
        finally:
            self._waiting.pop(command.oprid, None)
        for reply in replies:
            raise_for_refusal(reply)
        return replies

    def publish_only(self, command: c.Command) -> None:
        """Publish a command V1.9 gives no reply to (MQTT_SET)."""
        self.link.publish(command.topic, command.encode())

    def relay_bits(self, code: str) -> int | None:
        """Last known relay outputs of a meter (bit 0 = DO1), or None if never seen."""
        return self._relays.get(code)

    def _on_teleind(self, payload: bytes) -> None:
        try:
            message = parse_message(payload, TELEIND)
        except PayloadError as exc:
            log.warning("ignoring unreadable %s: %s", TELEIND, exc)
            return
        if "do_state" in message.quantities:
            self._relays[message.meter_code] = int(message.quantities["do_state"])

    def _on_reply(self, topic: str, payload: bytes) -> None:
        if topic == TELEIND:
            self._on_teleind(payload)
            return
        try:
            reply = self.match_reply(topic, payload)
        except PayloadError as exc:
            log.warning("ignoring unreadable reply on %s: %s", topic, exc)
            return
        waiting = self._waiting.get(reply.oprid)
        if waiting is None or waiting.future.done():
            return  # another commander's reply, or one that came after its timeout
        waiting.replies.append(reply)
        if len(waiting.replies) >= waiting.packets or not reply.ok or reply.is_last_packet:
            waiting.future.set_result(list(waiting.replies))

    def match_reply(self, topic: str, payload: bytes) -> Reply:
        """A reply packet with the oprid of the command it answers: its own, or for a RECALL
        data packet (V1.9 §4.6, no oprid) the waiting recall's for that meter and month.
        PayloadError if it cannot be matched."""
        reply = self._recall_data(payload) if topic == RECALL_TOPIC else None
        return reply or parse_reply(payload, topic)

    def _recall_data(self, payload: bytes) -> Reply | None:
        """A recall data packet without oprid, as the reply of the recall it belongs to (by
        meter id and month); None for a packet that carries its own oprid."""
        data = {k.lower(): v for k, v in decode_object(payload).items()}
        if "oprid" in data:
            return None
        oprid = self._recalls.get((str(data.get("id", "")), str(data.get("time", ""))))
        if oprid is None:
            raise PayloadError("time", f"recall data for no recall waiting: id "
                               f"{data.get('id')!r}, month {data.get('time')!r}")
        code = data.pop("code", None)
        return Reply(RECALL_TOPIC, oprid, None if code is None else str(code),
                     str(data.pop("msg", "")), data, bytes(payload))

    # --- commands -----------------------------------------------------------------

    async def set_relay(self, code: str, do: int, on: bool) -> None:
        """Switch relay output ``do`` (1 or 2); the meter must be in remote mode."""
        await self.send(c.telectrl(code, do, on))
        bits = self._relays.get(code, 0)
        self._relays[code] = bits | (1 << (do - 1)) if on else bits & ~(1 << (do - 1))

    async def recall_month(self, code: str, year: int, month: int) -> dict[str, float]:
        """The frozen billing data of one month, by canonical quantity name."""
        tags = await self.recall_month_tags(code, year, month)
        quantities, _unknown = split_known(RECALL_TOPIC, tags, self._recall_mapping())
        return quantities

    async def recall_month_tags(self, code: str, year: int, month: int) -> dict[str, float]:
        """The frozen billing data of one month as raw lower-case V1.9 tags."""
        command = c.recall(code, year, month)
        key = (code, command.payload["date"])
        self._recalls[key] = command.oprid
        try:
            replies = await self.send(command, packets=RECALL_PACKETS)
        finally:
            self._recalls.pop(key, None)
        tags: dict[str, float] = {}
        for reply in replies:
            tags.update(_numeric_tags(reply.fields))
        return tags

    async def set_time(self, code: str, local: datetime) -> None:
        """Set the meter's clock to the naive meter-local time ``local``."""
        await self.send(c.settime(code, local))

    async def write_registers(
        self, code: str, address: int, values: list[float], value_type: str = c.INT_TYPE
    ) -> None:
        """SYS_CFG: write values from ``address`` (type "1" 16-bit words, "2" float32)."""
        await self.send(c.sys_cfg(code, address, values, value_type, profile=self.profile))

    async def read_registers(
        self, code: str, address: int, count: int, value_type: str = c.INT_TYPE
    ) -> list[float]:
        """SYS_READ: ``count`` values from ``address``."""
        [reply, *_] = await self.send(c.sys_read(code, address, count, value_type))
        values = value_list(reply)
        if len(values) != count:
            raise PayloadError("value", f"asked for {count} values, meter sent {len(values)}")
        return values

    async def set_upload_interval(self, code: str, level: str, value: int) -> None:
        """COMMOD_SET: ``level`` "second" (seconds) or "minute" (minutes)."""
        await self.send(c.commod_set(code, level, value, profile=self.profile))

    async def read_upload_interval(self, code: str, level: str) -> int:
        """COMMOD_READ: the current interval of ``level``."""
        [reply, *_] = await self.send(c.commod_read(code, level))
        return int(to_number("value", reply.fields.get("value")))

    async def reconfig(self, code: str) -> None:
        """RECONFIG: reset the meter's MQTT settings."""
        await self.send(c.reconfig(code))

    def set_broker(self, code: str, parts: list[str]) -> None:
        """MQTT_SET: point the meter at another broker (no reply is documented)."""
        self.publish_only(c.set_broker(code, parts))

    def _recall_mapping(self) -> Mapping[str, Mapping[str, str]]:
        if RECALL_TOPIC in self.mapping:
            return self.mapping
        if "MQTT_DAY_DATA" in self.mapping:  # same dd tags, frozen daily instead of monthly
            return {RECALL_TOPIC: self.mapping["MQTT_DAY_DATA"]}
        raise ProfileError("profile mqtt mapping has neither MQTT_RECALL_REP nor MQTT_DAY_DATA")


def _numeric_tags(fields: Mapping[str, object]) -> dict[str, float]:
    skip = {"id", "time", "isend", "date", "frz_type", "oprtype"}
    out = {}
    for tag, value in fields.items():
        if tag not in skip:
            try:
                out[tag] = to_number(tag, value)
            except PayloadError:
                log.debug("recall reply: skipping non-numeric tag %s=%r", tag, value)
    return out
