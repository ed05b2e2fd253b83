"""A job's evidence: every request and reply it caused, as it went over the wire, and a hash.

Modbus exchanges are kept as request and reply PDUs (function code and data, in hex): what the
meter was sent and answered, without the gateway's framing (MBAP header or RTU address and CRC),
which differs per transport and carries no meaning of its own. MQTT exchanges are kept as the
topics and payloads themselves. The meter's password never enters the evidence: its words are
masked. The SHA-256 is taken over the canonical JSON of the whole record.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from kpm37.errors import ModbusExceptionResponse
from kpm37.modbus import pdu
from kpm37.mqtt.client import MqttCommander
from kpm37.mqtt.protocol import Command, PayloadError, Reply
from kpm37.profile import Profile
from kpm37.scheduler import BusScheduler

MASK = "****"


def evidence_sha256(record: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of ``record`` (sorted keys, no spaces)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RecordingBus:
    """A meter's RegisterBus over the gateway's scheduler, at the job's rank, keeping evidence.

    ``failed_names`` names the profile values of the frame that failed last, so a refusal or
    timeout says which value it was about."""

    def __init__(self, scheduler: BusScheduler, profile: Profile, rank: int) -> None:
        self.scheduler = scheduler
        self.profile = profile
        self.rank = rank
        self.exchanges: list[dict[str, Any]] = []
        self.failed_names: list[str] = []
        self.first_frame_at: float | None = None

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        result = await self._submit(pdu.read_registers(unit, address, count), "holding")
        return [int(v) for v in result or []]

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        result = await self._submit(pdu.read_coils(unit, address, count), "coil")
        return [bool(v) for v in result or []]

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        await self._submit(pdu.write_registers(unit, address, values), "holding")

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        await self._submit(pdu.write_coil(unit, address, value), "coil")

    async def _submit(self, request: pdu.Request, table: str) -> pdu.Result:
        entry: dict[str, Any] = {"at": _now(), "unit": request.unit,
                                 "request": self._request_hex(request, table)}
        self.exchanges.append(entry)
        try:
            result = await self.scheduler.submit(request, self.rank)
        except ModbusExceptionResponse as exc:
            entry["reply"] = pdu.encode_exception(exc.function, exc.code).hex()
            self._note_failure(request, table)
            raise
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            self._note_failure(request, table)
            raise
        entry["reply"] = pdu.encode_response(request, result).hex()
        return result

    def _span(self, request: pdu.Request) -> range:
        size = request.count or len(request.values) or 1
        return range(request.address, request.address + size)

    def _note_failure(self, request: pdu.Request, table: str) -> None:
        names = []
        for address in self._span(request):
            reg = self.profile.register_covering(table, address)
            if reg is not None and reg.name not in names:
                names.append(reg.name)
        self.failed_names = names

    def _request_hex(self, request: pdu.Request, table: str) -> str:
        password = self.profile.password_register
        if not password or request.function != pdu.WRITE_MULTIPLE_REGISTERS:
            return pdu.encode_request(request).hex()
        reg = self.profile.register(password)
        head = pdu.encode_request(request)[:6].hex()
        words = [MASK if reg.address <= request.address + i < reg.end else f"{w:04x}"
                 for i, w in enumerate(request.values)]
        return head + "".join(words)


class RecordingCommander(MqttCommander):
    """An MqttCommander that keeps every command it publishes and every reply to them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exchanges: list[dict[str, Any]] = []
        self._by_oprid: dict[str, dict[str, Any]] = {}

    async def send(self, command: Command, packets: int = 1) -> list[Reply]:
        entry: dict[str, Any] = {"at": _now(), "topic": command.topic,
                                 "payload": command.encode().decode(), "replies": []}
        self.exchanges.append(entry)
        self._by_oprid[command.oprid] = entry
        try:
            return await super().send(command, packets)
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            raise

    def _on_reply(self, topic: str, payload: bytes) -> None:
        super()._on_reply(topic, payload)
        try:
            reply = self.match_reply(topic, payload)  # recall data packets carry no oprid
        except PayloadError:
            return
        entry = self._by_oprid.get(reply.oprid)
        if entry is not None:
            entry["replies"].append({"at": _now(), "topic": topic,
                                     "payload": payload.decode("utf-8", errors="replace")})
