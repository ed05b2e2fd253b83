"""Serving a dial-in gateway: 4G/WiFi meters in "Modbus-RTU transparent" mode call us.

One process per dial-in gateway (``manage.py dialin_listener``) listens on the gateway's
host:port with kpm37's DialInListener. Every meter that identifies itself gets a session:
if the inventory has it under this gateway, the session polls it at its ``poll_interval_s``
through its own BusScheduler (each meter is its own link), stores through the same
``poll_results_store`` as gateway polls, and keeps PollState (next due, failures, backoff);
otherwise the code is noted as an UnregisteredMeter and the connection is left idle, looked up
again now and then, so a meter added to the inventory meanwhile starts being polled.

A meter that hangs up and dials again keeps its session: the redial wakes it and it polls at
once, because a freshly connected meter is the best moment to reach it. Every error is logged
with its type and the session carries on; only ``stop`` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from kpm37.modbus.dialin import DialInListener, DialInTransport
from kpm37.scheduler import BusScheduler
from meters.choices import GatewayKind, TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.models import PollState
from meters.telemetry.mqtt_services import unregistered_count
from meters.telemetry.polling import MeterResult, meter_read, poll_budget_s, poll_results_store

log = logging.getLogger(__name__)

RECHECK_S = 60.0  # how often an idle, unknown meter is looked up in the inventory again
ERROR_PAUSE_S = 5.0  # after an unexpected error (database down...), before the session retries


class DialInError(Exception):
    """The gateway cannot be served: unknown, disabled or not a dial-in gateway."""


# --- database steps (synchronous; the sessions run them in Django's one sync thread) ---------

def dialin_gateway(*, name: str) -> Gateway:
    """The enabled dial-in gateway called ``name``; DialInError says why not otherwise."""
    gateway = Gateway.objects.filter(name=name).first()
    if gateway is None:
        raise DialInError(f"--gateway: no gateway named {name!r}")
    if gateway.kind != GatewayKind.DIAL_IN:
        raise DialInError(f"--gateway: {name} is a {gateway.kind} gateway, not dial-in "
                          f"(use `manage.py poll` or the Celery poller)")
    if not gateway.enabled:
        raise DialInError(f"--gateway: {name} is disabled")
    return gateway


def _inventory_meter(gateway_id: int, code: str) -> Meter | None:
    return (Meter.objects.filter(gateway_id=gateway_id, code=code,
                                 transport=TransportKind.MODBUS)
            .select_related("site", "gateway").first())


def _stranger_note(code: str, gateway_id: int) -> str:
    """Record a dial-in from a meter not under this gateway; returns what was done."""
    elsewhere = Meter.objects.filter(code=code).select_related("gateway").first()
    if elsewhere is not None:  # known, so not "unregistered": an operator should move it
        where = elsewhere.gateway.name if elsewhere.gateway else elsewhere.transport
        return f"is in the inventory under {where}, not this gateway: kept idle"
    unregistered_count(codes=[code], at=timezone.now())
    return "is not in the inventory: listed as unregistered, kept idle"


def _claim(meter: Meter, now: datetime, hold_until: datetime, force: bool) -> bool:
    """Compare-and-set the meter's next_poll_at to ``hold_until`` if it is due (or forced)."""
    PollState.objects.get_or_create(meter=meter, defaults={"next_poll_at": now})
    due_at = PollState.objects.get(meter=meter).next_poll_at
    if due_at > now and not force:
        return False
    return PollState.objects.filter(meter=meter, next_poll_at=due_at).update(
        next_poll_at=hold_until) == 1


def _store(meter: Meter, result: MeterResult, now: datetime, held_until: datetime) -> int | None:
    """Store the result if the claim still holds (None if another poller took the meter)."""
    with transaction.atomic():
        state = PollState.objects.select_for_update().filter(meter=meter).first()
        if state is None or state.next_poll_at != held_until:
            return None
        return poll_results_store(meters={meter.pk: meter}, results=[result], now=now)


def _seconds_until_due(meter: Meter) -> float:
    due_at = PollState.objects.filter(meter=meter).values_list("next_poll_at", flat=True).first()
    return 0.0 if due_at is None else max(0.0, (due_at - timezone.now()).total_seconds())


def _db(fn):  # type: ignore[no-untyped-def]
    """Run a database step off the event loop, always in the same thread (one connection)."""
    return sync_to_async(fn, thread_sensitive=True)


# --- the sessions -----------------------------------------------------------------------------

class _StayConnected(DialInTransport):
    """A meter's transport whose close() leaves the line up: closing a session's bus must not
    hang up on a meter (the listener hangs up on everyone when it stops)."""

    async def close(self) -> None:
        """Leave the connection open."""


class _Listener(DialInListener):
    """DialInListener that logs every inbound connection before it is identified."""

    async def _on_connect(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        log.info("dial-in connection from %s", ":".join(str(p) for p in peer or ()))
        await super()._on_connect(reader, writer)


class MeterSession:
    """One meter code's life in this process: identified, then polled (or kept idle)."""

    def __init__(self, listener: DialInListener, gateway: Gateway, code: str) -> None:
        self.gateway, self.code = gateway, code
        self.redialled = asyncio.Event()
        self.redialled.set()  # the first connection counts: act on it at once
        self.bus = BusScheduler(_StayConnected(listener, code),
                                frame_gap=gateway.frame_gap_ms / 1000, name=code)

    async def run(self) -> None:
        """Serve the meter until cancelled; errors are logged and retried, never raised."""
        try:
            while True:
                fresh = self.redialled.is_set()
                self.redialled.clear()
                try:
                    await self._pause(await self._step(fresh))
                except Exception as exc:  # the listener must outlive any error
                    log.error("meter %s: %s: %s", self.code, type(exc).__name__, exc)
                    await self._pause(ERROR_PAUSE_S)
        finally:
            await self.bus.close()

    async def _step(self, fresh: bool) -> float:
        """Poll (or note) the meter once if due; returns seconds until the next step."""
        # A long-lived process has no request cycle to drop a connection that broke (database
        # restarted) or aged out; without this every later step would fail on it.
        await _db(close_old_connections)()
        meter = await _db(_inventory_meter)(self.gateway.pk, self.code)
        if meter is None:
            if fresh:
                what = await _db(_stranger_note)(self.code, self.gateway.pk)
                log.warning("meter %s %s", self.code, what)
            return RECHECK_S
        await self._poll(meter, force=fresh)
        return await _db(_seconds_until_due)(meter)

    async def _poll(self, meter: Meter, force: bool) -> None:
        now = timezone.now()
        held = now + timedelta(seconds=poll_budget_s(self.gateway, [meter]))
        if not await _db(_claim)(meter, now, held, force):
            return
        result = await meter_read(self.bus, meter)
        stored = await _db(_store)(meter, result, now, held)
        if stored is None:
            log.warning("meter %s: poll discarded, another poller claimed it", self.code)
        elif result.ok:
            log.info("meter %s polled: %d values, %d reading stored", self.code,
                     len(result.values), stored)
        else:
            log.warning("meter %s poll failed: %s: %s", self.code, result.error, result.message)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the meter dials in again meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.redialled.wait(), max(seconds, 0.05))


class DialInServer:
    """The listener and one MeterSession per meter code that has dialled in."""

    def __init__(self, gateway: Gateway, *, port: int | None = None,
                 registration_timeout_s: float = 1.0) -> None:
        self.gateway = gateway
        self.listener = _Listener(
            host=gateway.host or "0.0.0.0",  # a blank listen address means every interface
            port=gateway.port if port is None else port,
            timeout=gateway.timeout_ms / 1000, registration_timeout=registration_timeout_s,
            on_meter=self._identified)
        self.sessions: dict[str, tuple[MeterSession, asyncio.Task[None]]] = {}

    def _identified(self, code: str) -> None:
        known = self.sessions.get(code)
        log.info("meter %s identified on gateway %s%s", code, self.gateway.name,
                 " (dialled again)" if known else "")
        if known is not None:
            known[0].redialled.set()
            return
        session = MeterSession(self.listener, self.gateway, code)
        self.sessions[code] = (session, asyncio.create_task(session.run(), name=code))

    async def serve(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set, then end every session and hang up."""
        host, port = await self.listener.start()
        log.info("gateway %s: listening for dial-in meters on %s:%d", self.gateway.name,
                 host, port)
        try:
            await stop.wait()
        finally:
            for _, task in self.sessions.values():
                task.cancel()
            await asyncio.gather(*(t for _, t in self.sessions.values()),
                                 return_exceptions=True)
            await self.listener.stop()
            await _db(connections.close_all)()
            log.info("gateway %s: dial-in listener stopped", self.gateway.name)
