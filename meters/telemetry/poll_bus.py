"""The bus side of a poll cycle: transport settings and reading meters through a BusScheduler.

Every meter's requests queue on one scheduler in one event loop, so only one frame is in
flight on the gateway's bus and the frame gap is honoured. While it holds the gateway's claim,
the owner keeps that scheduler in a :class:`BusSession` (an event loop in a thread of its own,
so the owner's thread stays free for the database); other work on the same bus (meter jobs)
joins the session through a registered :class:`BusServer` instead of opening a second master.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from kpm37.device import MeterDevice
from kpm37.modbus.transports import open_transport
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.transport import RegisterBus
from meters.choices import GatewayKind
from meters.models import Gateway, Meter
from meters.telemetry.poll_results import POLLED_KINDS, MeterResult, PollError


def transport_settings(gateway: Gateway) -> dict[str, Any]:
    """open_transport() arguments from the gateway's fields; PollError if it is not polled."""
    if gateway.kind not in POLLED_KINDS:
        if gateway.kind == GatewayKind.DIAL_IN:
            raise PollError(f"gateway {gateway.name}: kind dial-in is not polled here; its "
                            f"meters dial in to `manage.py dialin_listener --gateway "
                            f"{gateway.name}`, which polls them")
        raise PollError(f"gateway {gateway.name}: kind {gateway.kind} is not polled")
    timeout = gateway.timeout_ms / 1000
    if gateway.kind == GatewayKind.SERIAL:
        return {"port": gateway.device, "baudrate": gateway.baud,
                "parity": gateway.data_format[1], "timeout": timeout}
    if not gateway.host or not gateway.port:
        raise PollError(f"gateway {gateway.name}: host and port must be set to poll it")
    return {"host": gateway.host, "port": gateway.port, "timeout": timeout}


class _RecordingBus:
    """Passes a meter's requests to the bus and keeps the words that came back as evidence."""

    def __init__(self, bus: RegisterBus) -> None:
        self.bus = bus
        self.lines: list[str] = []

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        words = await self.bus.read_registers(unit, address, count)
        self.lines.append(f"unit {unit} fc03 @{address} x{count}: "
                          + " ".join(f"{w:04x}" for w in words))
        return words

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        bits = await self.bus.read_coils(unit, address, count)
        self.lines.append(f"unit {unit} fc01 @{address} x{count}: "
                          + "".join("1" if b else "0" for b in bits))
        return bits

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        await self.bus.write_registers(unit, address, values)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        await self.bus.write_coil(unit, address, value)


async def meter_read(bus: RegisterBus, meter: Meter,
                     started: float | None = None) -> MeterResult:
    """Read one meter's live quantities through ``bus`` (a BusScheduler, or any Transport);
    a failure becomes the result's error, never an exception. ``started`` (time.monotonic()
    at the cycle's start) dates the result by when its read finished."""
    started = time.monotonic() if started is None else started
    recorder = _RecordingBus(bus)
    base = {"meter_id": meter.pk, "code": meter.code, "address": meter.address}
    try:
        device = MeterDevice(recorder, load_profile(meter.profile), int(meter.address or 0))
        values = await device.read_live()
    except Exception as exc:  # every failure is this meter's result; the others carry on
        return MeterResult(**base, error=type(exc).__name__, message=str(exc) or repr(exc))
    return MeterResult(**base, values=values, raw="\n".join(recorder.lines).encode(),
                       elapsed_s=time.monotonic() - started)


async def meters_read_on(bus: RegisterBus, meters: list[Meter]) -> list[MeterResult]:
    """All meters' requests queue on ``bus``: one frame in flight, the gap honoured."""
    started = time.monotonic()
    return list(await asyncio.gather(*(meter_read(bus, m, started) for m in meters)))


async def meters_read(gateway: Gateway, meters: list[Meter]) -> list[MeterResult]:
    """Read ``meters`` through a scheduler of their own (for callers without a session)."""
    transport = open_transport(gateway.kind, **transport_settings(gateway))
    bus = BusScheduler(transport, frame_gap=gateway.frame_gap_ms / 1000, name=gateway.name)
    try:
        return await meters_read_on(bus, meters)
    finally:
        await bus.close()


T = TypeVar("T")


class BusSession:
    """A gateway's one BusScheduler, run in an event loop thread while its owner holds the bus.

    ``start`` hands a coroutine to the loop and returns a concurrent Future, so the owner's own
    thread (where Django's database connection lives) can watch, claim and store meanwhile.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name=f"bus {gateway.name}")
        self._thread.start()
        transport = open_transport(gateway.kind, **transport_settings(gateway))
        self.bus = BusScheduler(transport, frame_gap=gateway.frame_gap_ms / 1000,
                                name=gateway.name)

    def start(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the bus's loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Fail what is still queued, close the transport, stop the loop thread."""
        try:
            self.start(self.bus.close()).result(timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
            self.loop.close()

    def __enter__(self) -> BusSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BusServer(Protocol):
    """Work that runs on a gateway's bus under the poll owner's claim (meter jobs do)."""

    def has_work(self, gateway: Gateway) -> bool:
        """Whether anything waits for this gateway's bus (checked before and after a cycle)."""

    def serve(self, *, session: BusSession, claim: Any, busy: Callable[[], bool]) -> None:
        """Run the waiting work on ``session`` until none is left and ``busy()`` is False
        (the poll reads are done); keep ``claim`` alive meanwhile."""


_SERVERS: list[BusServer] = []


def register_bus_server(server: BusServer) -> None:
    """Add ``server`` to every bus session (an app's ready(); idempotent)."""
    if server not in _SERVERS:
        _SERVERS.append(server)


def bus_servers() -> list[BusServer]:
    """The registered servers, in registration order."""
    return list(_SERVERS)
