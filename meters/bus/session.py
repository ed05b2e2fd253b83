"""A gateway's bus while one owner holds it: its one BusScheduler, and the work that joins it.

The owner (the poll cycle that holds the gateway's claim, see ``claims``) keeps the scheduler
in a :class:`BusSession`: an event loop in a thread of its own, so the owner's thread stays
free for the database. Polls and every other piece of work on the bus (meter jobs) share that
one scheduler; work other than polling joins through a registered :class:`BusServer`, so no
app opens a second master on a bus.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from kpm37.modbus.transports import open_transport
from kpm37.scheduler import BusScheduler
from meters.choices import GatewayKind
from meters.models import Gateway

BUS_KINDS = (GatewayKind.MODBUS_TCP, GatewayKind.RTU_OVER_TCP, GatewayKind.LORA,
             GatewayKind.SERIAL)  # dial-in meters are read on their own inbound link


class BusError(Exception):
    """This platform cannot open the gateway's bus: unknown, disabled, or not a bus kind."""


def transport_settings(gateway: Gateway) -> dict[str, Any]:
    """open_transport() arguments from the gateway's fields; BusError if this platform does
    not open its bus (dial-in meters call in on links of their own)."""
    if gateway.kind not in BUS_KINDS:
        if gateway.kind == GatewayKind.DIAL_IN:
            raise BusError(f"gateway {gateway.name}: kind dial-in is not polled here; its "
                            f"meters dial in to `manage.py dialin_listener --gateway "
                            f"{gateway.name}`, which polls them")
        raise BusError(f"gateway {gateway.name}: kind {gateway.kind} is not polled")
    timeout = gateway.timeout_ms / 1000
    if gateway.kind == GatewayKind.SERIAL:
        return {"port": gateway.device, "baudrate": gateway.baud,
                "parity": gateway.data_format[1], "timeout": timeout}
    if not gateway.host or not gateway.port:
        raise BusError(f"gateway {gateway.name}: host and port must be set to poll it")
    return {"host": gateway.host, "port": gateway.port, "timeout": timeout}


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
