"""A Modbus master over one asyncio stream pair: one request at a time, every fault typed.

The master does not care who opened the link: it can dial a gateway (and dial again after a
drop) or be handed the streams of a meter that dialled in to us.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from kpm37.errors import (
    ConnectionLost,
    CrcError,
    DeviceError,
    DeviceTimeout,
    ProtocolError,
    WrongUnit,
)
from kpm37.modbus import pdu
from kpm37.modbus.framing import Frame, Framer

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connector = Callable[[], Awaitable[Streams]]

# After a timeout or a broken frame, late or leftover bytes would be taken for the next answer;
# the master reads until the line has been quiet this long before it sends again.
RESYNC_QUIET = 0.05


class ModbusMaster:
    """Implements :class:`kpm37.transport.Transport` over a framer and a stream pair.

    ``connect`` (re)opens the link on demand; without it the master only uses ``streams`` and
    raises ConnectionLost once they are gone.
    """

    def __init__(
        self,
        framer: Framer,
        *,
        timeout: float,
        connect: Connector | None = None,
        streams: Streams | None = None,
        delay: float = 0.0,
    ) -> None:
        self.framer = framer
        self.timeout = timeout
        self.delay = delay
        self._connect = connect
        self._streams = streams
        self._lock = asyncio.Lock()
        self._transaction = 0
        self._dirty = False

    @property
    def connected(self) -> bool:
        """True while the master holds an open link."""
        return self._streams is not None and not self._streams[1].is_closing()

    async def execute(self, request: pdu.Request) -> pdu.Result:
        """Send ``request`` and return its decoded answer, or raise a kpm37.errors type."""
        async with self._lock:
            reader, writer = await self._ensure_streams()
            if self._dirty:
                await self._resync(reader)
            if self.delay:
                await asyncio.sleep(self.delay)
            try:
                return await self._exchange(reader, writer, request)
            except ConnectionLost:
                await self._drop()
                raise
            except (DeviceTimeout, CrcError, ProtocolError, WrongUnit):
                self._dirty = True
                raise

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: pdu.Request
    ) -> pdu.Result:
        self._transaction = (self._transaction + 1) & 0xFFFF
        adu = self.framer.encode(request.unit, pdu.encode_request(request), self._transaction)
        try:
            writer.write(adu)
            await asyncio.wait_for(writer.drain(), self.timeout)
            frame = await asyncio.wait_for(self._read_answer(reader), self.timeout)
        except TimeoutError as exc:
            raise DeviceTimeout(
                f"unit {request.unit}: no answer to function {request.function:#04x} "
                f"at {request.address} within {self.timeout:g} s"
            ) from exc
        except OSError as exc:
            raise ConnectionLost(f"link failed: {exc}") from exc
        if frame.unit != request.unit:
            raise WrongUnit(f"asked unit {request.unit}, unit {frame.unit} answered")
        return pdu.decode_response(request, frame.pdu)

    async def _read_answer(self, reader: asyncio.StreamReader) -> Frame:
        while True:
            frame = await self.framer.read_frame(reader, request=False)
            if self.framer.name != "socket" or frame.transaction == self._transaction:
                return frame
            if not _is_recent(frame.transaction, self._transaction):
                raise WrongUnit(
                    f"transaction {frame.transaction} answered, {self._transaction} expected"
                )
            # An answer to an earlier request that timed out: discard it, keep waiting.

    async def _resync(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                chunk = await asyncio.wait_for(reader.read(512), RESYNC_QUIET)
                if not chunk:
                    await self._drop()
                    raise ConnectionLost("link closed while resynchronising")
        self._dirty = False

    async def _ensure_streams(self) -> Streams:
        if self.connected and self._streams is not None:
            return self._streams
        if self._connect is None:
            raise ConnectionLost("link is closed and this master cannot reopen it")
        try:
            self._streams = await asyncio.wait_for(self._connect(), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ConnectionLost(f"cannot open link: {exc or type(exc).__name__}") from exc
        self._dirty = False
        return self._streams

    async def _drop(self) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            streams[1].close()
            with contextlib.suppress(OSError, DeviceError):
                await streams[1].wait_closed()

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        """FC 03: read ``count`` holding registers from ``address``."""
        result = await self.execute(pdu.read_registers(unit, address, count))
        assert isinstance(result, list)
        return [int(v) for v in result]

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """FC 16: write ``values`` from ``address``."""
        await self.execute(pdu.write_registers(unit, address, values))

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        """FC 01: read ``count`` relay coils from ``address``."""
        result = await self.execute(pdu.read_coils(unit, address, count))
        assert isinstance(result, list)
        return [bool(v) for v in result]

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """FC 05: close (True) or open (False) the relay coil at ``address``."""
        await self.execute(pdu.write_coil(unit, address, value))

    async def close(self) -> None:
        """Close the link; a master with a connector reopens it on the next request."""
        async with self._lock:
            await self._drop()


def _is_recent(seen: int, current: int, window: int = 64) -> bool:
    """True if transaction ``seen`` was issued shortly before ``current`` (with wrap-around)."""
    return 0 < (current - seen) & 0xFFFF <= window
