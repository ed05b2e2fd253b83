"""Run-time control of a running simulator: a line-based JSON server on loopback.

One request per line, one reply per line::

    {"meter": "3071025100001", "set": {"silent": true, "voltage": 265}}
    {"meter": "*", "set": {"silent": false}}     every meter the settings apply to
    {"meter": "3071025100001"}                   that meter's state
    {"list": true}                               every meter's state

Replies are ``{"ok": true, "meter": {...}}`` (or ``"meters": [...]``) and
``{"ok": false, "error": "<field>: <reason>"}``; a bad request never stops the server. The
settings are described in :mod:`kpm37.simulator.control_settings`; ``python -m
kpm37.simulator.ctl`` is the human-friendly client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from kpm37.simulator.control_settings import (
    ControlError,
    Controlled,
    applies,
    apply_settings,
    check_settings,
    meter_state,
)
from kpm37.simulator.gateway import SimGateway
from kpm37.simulator.meter import SimMeter

log = logging.getLogger(__name__)

DEFAULT_CONTROL_PORT = 15019  # the demo's: one below its first Modbus gateway port
CONTROL_PORT_ENV = "FLEET_SIM_CONTROL_PORT"
MAX_REQUEST_BYTES = 64 * 1024
REQUEST_KEYS = ("meter", "set", "list")


def controlled_meters(gateways: Sequence[SimGateway],
                      mqtt_meters: Sequence[object]) -> list[Controlled]:
    """Every SimMeter of a fleet with where it is served (other meter kinds are left out)."""
    entries = []
    for index, gateway in enumerate(gateways):
        host, port = gateway.address
        for unit, meter in sorted(gateway.meters.items()):
            if isinstance(meter, SimMeter):
                entries.append(Controlled(meter, "modbus", {
                    "gateway": index, "gateway_address": f"{host}:{port}", "unit": unit}))
    entries += [Controlled(meter, "mqtt", {"mqtt": index})
                for index, meter in enumerate(mqtt_meters) if isinstance(meter, SimMeter)]
    return entries


class ControlServer:
    """Serves control requests for ``entries`` until stopped."""

    def __init__(self, entries: Iterable[Controlled]) -> None:
        self._entries = {entry.meter.code: entry for entry in entries}
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.address: tuple[str, int] = ("", 0)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host:port`` (0 picks a free port) and return the bound address."""
        self._server = await asyncio.start_server(self._serve, host, port,
                                                  limit=MAX_REQUEST_BYTES)
        bound = self._server.sockets[0].getsockname()
        self.address = (str(bound[0]), int(bound[1]))
        return self.address

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                await _reply(writer, self.answer(line))
        except ValueError:  # readline: the line is longer than the stream limit
            with contextlib.suppress(OSError):
                await _reply(writer, _refusal(ControlError(
                    "request", f"longer than {MAX_REQUEST_BYTES} bytes; connection closed")))
        except OSError:
            pass  # the client went away
        finally:
            self._writers.discard(writer)
            writer.close()

    def answer(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line; never raises."""
        try:
            return self._dispatch(_parse(line))
        except ControlError as exc:
            return _refusal(exc)
        except Exception as exc:  # keep serving whatever one request did
            log.exception("control request %r failed", line[:200])
            return {"ok": False, "error": f"request: failed inside the simulator ({exc})"}

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        if "list" in request:
            if request["list"] is not True or len(request) > 1:
                raise ControlError("list", "must be true, and alone in the request")
            return {"ok": True, "meters": [meter_state(e) for e in self._entries.values()]}
        if "meter" not in request:
            raise ControlError("meter", 'missing (or send {"list": true})')
        every = request["meter"] == "*"
        targets = list(self._entries.values()) if every else [self._entry(request["meter"])]
        if "set" in request:
            settings = check_settings(request["set"])
            targets = _affected(targets, settings, every)
            for entry in targets:
                apply_settings(entry, settings)
        if every:
            return {"ok": True, "meters": [meter_state(e) for e in targets]}
        return {"ok": True, "meter": meter_state(targets[0])}

    def _entry(self, code: object) -> Controlled:
        if not isinstance(code, str) or len(code) != 13:
            raise ControlError("meter", 'must be a 13-character meter code or "*"')
        entry = self._entries.get(code)
        if entry is None:
            raise ControlError("meter", f"no simulated meter {code} here")
        return entry


def _parse(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError("request", f"not valid JSON ({exc})") from None
    if not isinstance(request, dict):
        raise ControlError("request", "must be a JSON object")
    for key in request:
        if key not in REQUEST_KEYS:
            raise ControlError(key, f"unknown request key (known: {', '.join(REQUEST_KEYS)})")
    return request


def _affected(targets: list[Controlled], settings: dict[str, Any],
              every: bool) -> list[Controlled]:
    """The targets the settings act on; a setting that cannot act on a named meter is refused."""
    for key in settings:
        if not any(applies(key, e.transport) for e in targets):
            kind = targets[0].transport if targets and not every else "any simulated"
            raise ControlError(key, f"has no effect on {kind} meters")
    return [e for e in targets if any(applies(key, e.transport) for key in settings)]


def _refusal(error: ControlError) -> dict[str, Any]:
    return {"ok": False, "error": str(error)}


async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
    writer.write(json.dumps(reply).encode() + b"\n")
    await writer.drain()


async def control_request(request: dict[str, Any], *, host: str = "127.0.0.1",
                          port: int = DEFAULT_CONTROL_PORT,
                          wait_s: float = 5.0) -> dict[str, Any]:
    """Send one request to a control server and return its reply.

    Raises OSError when nothing listens, TimeoutError when no reply comes in time."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait_s)
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait_s)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not line:
        raise ConnectionResetError(f"control server {host}:{port} closed without replying")
    reply: dict[str, Any] = json.loads(line)
    return reply
