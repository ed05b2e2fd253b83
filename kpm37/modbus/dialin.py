"""4G/WiFi "Modbus-RTU transparent": meters dial in to us and we are master on their socket.

A meter opens a TCP connection to the platform. Its first bytes are usually a registration
packet, its 13-character meter code in ASCII; a meter configured without one stays quiet, so
after a short wait we read its serial-number registers instead. Each identified meter gets a
Transport that follows it across reconnections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kpm37.errors import ConnectionLost, DeviceError
from kpm37.modbus.framing import RtuFramer
from kpm37.modbus.master import ModbusMaster

log = logging.getLogger(__name__)

CODE_LENGTH = 13


def parse_code(raw: bytes) -> str | None:
    """The meter code in ``raw`` (ASCII, NUL/space padded), or None if it is not one."""
    text = raw.rstrip(b"\x00 ").decode("ascii", errors="replace")
    return text if len(text) == CODE_LENGTH and text.isalnum() else None


class DialInListener:
    """A TCP server that identifies meters dialling in and hands out a Transport per meter."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 2.0,
        registration_timeout: float = 1.0,
        probe_unit: int = 1,
        serial_address: int = 0x0012,
        serial_registers: int = 7,
        on_meter: Callable[[str], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self.registration_timeout = registration_timeout
        self.probe_unit = probe_unit
        self.serial_address, self.serial_registers = serial_address, serial_registers
        self.on_meter = on_meter
        self._masters: dict[str, ModbusMaster] = {}
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None

    @property
    def codes(self) -> list[str]:
        """Codes of the meters connected now."""
        return sorted(c for c, m in self._masters.items() if m.connected)

    async def start(self) -> tuple[str, int]:
        """Start listening; returns the bound (host, port)."""
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)
        bound = self._server.sockets[0].getsockname()
        self.host, self.port = str(bound[0]), int(bound[1])
        return self.host, self.port

    async def stop(self) -> None:
        """Stop listening and hang up on every meter."""
        if self._server is not None:
            self._server.close()
        for master in list(self._masters.values()):
            await master.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def transport(self, code: str) -> DialInTransport:
        """The transport for meter ``code`` (usable once, and whenever, it is connected)."""
        return DialInTransport(self, code)

    async def wait_for(self, code: str, within: float) -> DialInTransport:
        """Wait until meter ``code`` is connected; raises ConnectionLost after ``within`` s."""
        try:
            async with self._arrived:
                await asyncio.wait_for(self._arrived.wait_for(lambda: code in self.codes), within)
        except TimeoutError as exc:
            raise ConnectionLost(f"meter {code} did not dial in within {within:g} s") from exc
        return self.transport(code)

    def master(self, code: str) -> ModbusMaster:
        """The live master for ``code``; raises ConnectionLost if the meter is not connected."""
        master = self._masters.get(code)
        if master is None or not master.connected:
            raise ConnectionLost(f"meter {code} is not connected")
        return master

    async def _on_connect(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        master = ModbusMaster(RtuFramer(), timeout=self.timeout, streams=(reader, writer))
        try:
            code = await self._identify(reader, master)
        except DeviceError as exc:
            peer = writer.get_extra_info("peername")
            log.warning("dial-in from %s not identified: %s", peer, exc)
            await master.close()
            return
        old = self._masters.get(code)
        self._masters[code] = master
        if old is not None:
            await old.close()
        async with self._arrived:
            self._arrived.notify_all()
        if self.on_meter is not None:
            self.on_meter(code)

    async def _identify(self, reader: asyncio.StreamReader, master: ModbusMaster) -> str:
        raw = await _read_for(reader, CODE_LENGTH, self.registration_timeout)
        if raw:
            code = parse_code(raw)
            if code is None:
                raise ConnectionLost(f"registration packet {raw!r} is not a meter code")
            return code
        words = await master.read_registers(
            self.probe_unit, self.serial_address, self.serial_registers
        )
        code = parse_code(b"".join(w.to_bytes(2, "big") for w in words))
        if code is None:
            raise ConnectionLost(f"serial number registers {words} hold no meter code")
        return code


async def _read_for(reader: asyncio.StreamReader, n: int, seconds: float) -> bytes:
    """Up to ``n`` bytes arriving within ``seconds`` (fewer if the sender pauses that long)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    buf = b""
    with contextlib.suppress(TimeoutError):
        while len(buf) < n:
            chunk = await asyncio.wait_for(reader.read(n - len(buf)), deadline - loop.time())
            if not chunk:
                raise ConnectionLost("meter hung up before identifying itself")
            buf += chunk
    return buf


class DialInTransport:
    """The Transport for one dial-in meter: every call goes over its current connection."""

    def __init__(self, listener: DialInListener, code: str) -> None:
        self.listener = listener
        self.code = code

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        """FC 03 over the meter's connection."""
        return await self.listener.master(self.code).read_registers(unit, address, count)

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """FC 16 over the meter's connection."""
        await self.listener.master(self.code).write_registers(unit, address, values)

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        """FC 01 over the meter's connection."""
        return await self.listener.master(self.code).read_coils(unit, address, count)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """FC 05 over the meter's connection."""
        await self.listener.master(self.code).write_coil(unit, address, value)

    async def close(self) -> None:
        """Hang up on the meter (it will dial in again by itself)."""
        with contextlib.suppress(ConnectionLost):
            await self.listener.master(self.code).close()
