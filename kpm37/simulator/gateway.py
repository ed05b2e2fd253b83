"""A simulated RS485 gateway: meters behind one TCP port, one request at a time on the bus.

It speaks Modbus TCP (``framer="socket"``) or RTU over TCP (``framer="rtu"``), holds the bus for
the wire time of each exchange at the configured baud, and records every request (arrival, bus
start and end, the master's gap, outcome) so tests can check timing, order and exclusivity.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kpm37.errors import ConnectionLost, CrcError, ModbusExceptionResponse, ProtocolError
from kpm37.modbus import pdu
from kpm37.modbus.framing import Frame, Framer, framer_for, rtu_size
from kpm37.simulator.rs485 import BusTiming


class MeterLike(Protocol):
    """What a gateway needs of a simulated meter (SimMeter and RegisterBank both fit)."""

    address: int
    faults: Any  # silent, corrupt_crc, wrong_unit, slow_ms (see kpm37.simulator.meter.Faults)

    def read_registers(self, address: int, count: int) -> list[int]: ...

    def write_registers(self, address: int, values: list[int]) -> None: ...

    def read_coils(self, address: int, count: int) -> list[bool]: ...

    def write_coil(self, address: int, value: bool) -> None: ...


@dataclass
class RequestRecord:
    """One request as the gateway saw it. Times are the event loop's clock, in seconds."""

    connection: int
    unit: int
    function: int
    address: int
    count: int
    received: float
    started: float
    ended: float
    gap: float | None
    outcome: str

    @property
    def busy(self) -> float:
        """How long this request held the bus."""
        return self.ended - self.started


class SimGateway:
    """Serves ``meters`` (keyed by Modbus address) to any number of TCP connections."""

    def __init__(
        self,
        meters: Mapping[int, MeterLike] | Iterable[MeterLike],
        *,
        framer: str = "socket",
        timing: BusTiming | None = None,
        drop_every: int | None = None,
        name: str = "gateway",
    ) -> None:
        self.meters = dict(meters) if isinstance(meters, Mapping) else {
            m.address: m for m in meters
        }
        self.framer: Framer = framer_for(framer)
        self.timing = timing or BusTiming()
        self.drop_every = drop_every
        self.name = name
        self.log: list[RequestRecord] = []
        self._bus = asyncio.Lock()
        self._last_end: float | None = None
        self._conn_ids = itertools.count(1)
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.address: tuple[str, int] = ("", 0)

    @property
    def busy_seconds(self) -> float:
        """Total time the bus was held by requests so far."""
        return sum(r.busy for r in self.log)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host:port`` (0 picks a free port) and return the bound address."""
        self._server = await asyncio.start_server(self.serve_streams, host, port)
        bound = self._server.sockets[0].getsockname()
        self.address = (str(bound[0]), int(bound[1]))
        return self.address

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def drop_connections(self) -> None:
        """Close every connection now, as a gateway reboot or a cut cable would."""
        for writer in list(self._writers):
            writer.close()

    async def serve_streams(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answer requests arriving on one connection until it closes."""
        connection = next(self._conn_ids)
        self._writers.add(writer)
        try:
            await self._serve_loop(connection, reader, writer)
        except (ConnectionLost, OSError):
            pass  # the master went away; nothing to answer
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve_loop(
        self, connection: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while not writer.is_closing():
            try:
                frame = await self.framer.read_frame(reader, request=True)
            except CrcError:
                continue  # a real slave ignores a frame with a bad CRC
            except ProtocolError:
                await _discard_pending(reader)
                continue
            reply = await self._on_bus(connection, frame)
            if reply is None:
                continue
            if reply == b"":
                writer.close()
                return
            writer.write(reply)
            await writer.drain()

    async def _on_bus(self, connection: int, frame: Frame) -> bytes | None:
        received = asyncio.get_running_loop().time()
        async with self._bus:
            started = asyncio.get_running_loop().time()
            gap = None if self._last_end is None else received - self._last_end
            reply, outcome, request = self._answer(frame)
            if self._should_drop():
                reply, outcome = b"", "dropped"
            await asyncio.sleep(self._bus_time(frame, reply, request))
            ended = asyncio.get_running_loop().time()
            self._last_end = ended
        self.log.append(RequestRecord(
            connection, frame.unit, request.function if request else frame.pdu[0],
            request.address if request else 0, _count(request), received, started, ended,
            gap, outcome,
        ))
        return reply

    def _should_drop(self) -> bool:
        return bool(self.drop_every) and (len(self.log) + 1) % (self.drop_every or 1) == 0

    def _bus_time(self, frame: Frame, reply: bytes | None, request: pdu.Request | None) -> float:
        answer = None if not reply else rtu_size(len(reply) - self._overhead())
        slow = 0.0
        meter = self.meters.get(frame.unit)
        if meter is not None and reply:
            slow = getattr(getattr(meter, "faults", None), "slow_ms", 0) / 1000.0
        return self.timing.exchange_time(rtu_size(len(frame.pdu)), answer) + slow

    def _overhead(self) -> int:
        return 7 if self.framer.name == "socket" else 3

    def _answer(self, frame: Frame) -> tuple[bytes | None, str, pdu.Request | None]:
        meter = self.meters.get(frame.unit)
        if meter is None:
            return None, "no_meter", None
        try:
            request = pdu.decode_request(frame.unit, frame.pdu)
        except ModbusExceptionResponse as exc:
            refusal = pdu.encode_exception(exc.function, exc.code)
            return self._pack(frame, refusal), "exception", None
        except ProtocolError:
            return None, "garbage", None
        faults = getattr(meter, "faults", None)
        if getattr(faults, "silent", False):
            return None, "silent", request
        response, outcome = _call_meter(meter, request)
        return self._apply_faults(frame, response, faults), outcome, request

    def _apply_faults(self, frame: Frame, response: bytes, faults: Any) -> bytes | None:
        unit = frame.unit
        if getattr(faults, "wrong_unit", False):
            unit = unit % 247 + 1
        adu = self.framer.encode(unit, response, frame.transaction)
        if getattr(faults, "corrupt_crc", False):
            if self.framer.name != "rtu":
                return None  # a TCP gateway drops what failed its CRC on the RS485 side
            adu = adu[:-1] + bytes([adu[-1] ^ 0xFF])
        return adu

    def _pack(self, frame: Frame, response: bytes) -> bytes:
        return self.framer.encode(frame.unit, response, frame.transaction)


def _call_meter(meter: MeterLike, request: pdu.Request) -> tuple[bytes, str]:
    lock = getattr(meter, "lock", None)
    with lock if lock is not None else contextlib.nullcontext():
        try:
            return pdu.encode_response(request, _dispatch(meter, request)), "ok"
        except ModbusExceptionResponse as exc:
            return pdu.encode_exception(exc.function, exc.code), "exception"


def _dispatch(meter: MeterLike, request: pdu.Request) -> pdu.Result:
    if request.function == pdu.READ_HOLDING_REGISTERS:
        return meter.read_registers(request.address, request.count)
    if request.function == pdu.READ_COILS:
        return meter.read_coils(request.address, request.count)
    if request.function == pdu.WRITE_SINGLE_COIL:
        meter.write_coil(request.address, bool(request.values[0]))
    else:
        meter.write_registers(request.address, list(request.values))
    return None


def _count(request: pdu.Request | None) -> int:
    if request is None:
        return 0
    return request.count or len(request.values)


async def _discard_pending(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(TimeoutError):
        while await asyncio.wait_for(reader.read(512), 0.02):
            pass


async def start_gateway(
    meters: Mapping[int, MeterLike] | Iterable[MeterLike],
    *,
    framer: str = "socket",
    baud: int = 9600,
    turnaround: float = 0.005,
    link_delay: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
    drop_every: int | None = None,
) -> tuple[str, int, SimGateway]:
    """Start a gateway in this event loop; returns (host, port, gateway). Stop it with
    ``await gateway.stop()``."""
    gateway = SimGateway(
        meters, framer=framer, timing=BusTiming(baud, turnaround, link_delay),
        drop_every=drop_every,
    )
    bound_host, bound_port = await gateway.start(host, port)
    return bound_host, bound_port, gateway
