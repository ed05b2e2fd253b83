"""Polling Modbus meters: one cycle of one gateway's bus, claimed so only one poller runs it.

A cycle claims the gateway (compare-and-set on GatewayClaim and, when REDIS_URL is set, kpm37's
GatewayLease whose fencing token stamps the run), claims the due meters (compare-and-set on
PollState.next_poll_at), reads every meter's live quantities through one BusScheduler in one
event loop, stores the successes through ``readings_store`` (the path MQTT readings take) and
reschedules each meter, backing off from the failing ones.

``gateway_poll`` is deliberately not one transaction: the claim has to be visible to other
workers while the bus works, and a bus cycle of seconds must not hold database locks. Each step
commits on its own; the storing step re-checks that the claim is still ours first.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kpm37.device import MeterDevice, live_quantities
from kpm37.lease import GatewayLease
from kpm37.modbus.transports import open_transport
from kpm37.planner import plan_reads
from kpm37.profile import load_profile
from kpm37.scheduler import BusScheduler
from kpm37.transport import Transport
from meters.choices import GatewayKind, TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.choices import MODBUS_SOURCE
from meters.telemetry.models import GatewayClaim, PollRun, PollState
from meters.telemetry.pipeline import Candidate
from meters.telemetry.services import readings_store

CLAIM_MARGIN_S = 10  # on top of the worst-case bus time, before a crashed cycle's claim expires
MAX_BACKOFF_S = 3600  # a failing meter is still tried at least hourly (or at its own interval)
POLLED_KINDS = (GatewayKind.MODBUS_TCP, GatewayKind.RTU_OVER_TCP, GatewayKind.LORA,
                GatewayKind.SERIAL)  # dial-in meters are read on their own inbound link


class PollError(Exception):
    """The gateway cannot be polled by this service: unknown, disabled, or not a polled kind."""


@dataclass(frozen=True)
class MeterResult:
    """What one meter gave in a cycle: its values, or the error type and message."""

    meter_id: int
    code: str
    address: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""
    raw: bytes = b""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class PollReport:
    """What a cycle did: whether it got the claim, each meter's result, rows stored."""

    gateway_id: int
    gateway: str
    claimed: bool = True
    note: str = ""
    run_id: int | None = None
    fence: int | None = None
    results: list[MeterResult] = field(default_factory=list)
    stored: int = 0

    @property
    def ok(self) -> list[MeterResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[MeterResult]:
        return [r for r in self.results if not r.ok]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary (a Celery task's result)."""
        return {"gateway": self.gateway, "claimed": self.claimed, "note": self.note,
                "run": self.run_id, "fence": self.fence, "ok": len(self.ok),
                "stored": self.stored,
                "failed": {r.code: f"{r.error}: {r.message}" for r in self.failed}}


# --- selectors --------------------------------------------------------------------------------

def gateways_due(*, now: datetime) -> list[int]:
    """Ids of enabled, unclaimed gateways that have a Modbus meter due (or never polled)."""
    due = Q(meters__poll_state__isnull=True) | Q(meters__poll_state__next_poll_at__lte=now)
    busy = GatewayClaim.objects.filter(busy_until__gte=now).values("gateway_id")
    return list(Gateway.objects.filter(enabled=True, kind__in=POLLED_KINDS,
                                       meters__transport=TransportKind.MODBUS)
                .filter(due).exclude(pk__in=busy).order_by("pk").values_list("pk", flat=True)
                .distinct())


@cache
def _frames_per_meter(profile: str) -> int:
    prof = load_profile(profile)
    return len(plan_reads(prof, live_quantities(prof)))


def poll_budget_s(gateway: Gateway, meters: list[Meter]) -> float:
    """Worst-case bus time of a cycle: every frame waiting out the timeout and the gap."""
    per_frame = (gateway.timeout_ms + gateway.frame_gap_ms) / 1000
    frames = sum(_frames_per_meter(m.profile) for m in meters)
    return CLAIM_MARGIN_S + frames * per_frame


# --- claims -----------------------------------------------------------------------------------

class _Claim:
    """The database claim on a gateway and, with REDIS_URL, the Redis lease beside it."""

    def __init__(self, gateway: Gateway, ttl_s: float) -> None:
        self.gateway = gateway
        self.ttl = timedelta(seconds=ttl_s)
        self.token = secrets.token_hex(16)
        self.lease: GatewayLease | None = None

    def take(self) -> str:
        """Take both; returns "" on success, else why not (and holds nothing)."""
        now = timezone.now()
        GatewayClaim.objects.get_or_create(  # get_or_create retries the get if two insert
            gateway=self.gateway, defaults={"busy_until": now - timedelta(seconds=1)})
        won = GatewayClaim.objects.filter(gateway=self.gateway, busy_until__lt=now).update(
            busy_until=now + self.ttl, claimed_by=self.token)
        if not won:
            return "already claimed by another poller"
        if settings.REDIS_URL and not self._lease():
            self.release()
            return "leased by another poller (Redis)"
        return ""

    def _lease(self) -> bool:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        prefix = getattr(settings, "POLL_LEASE_PREFIX", "") or os.environ.get(
            "POLL_LEASE_PREFIX", "kpm:lease:")
        self.lease = GatewayLease(client, self.gateway.name,
                                  ttl_ms=int(self.ttl.total_seconds() * 1000), prefix=prefix)
        return self.lease.acquire() is not None

    @property
    def fence(self) -> int | None:
        return self.lease.fence if self.lease else None

    def still_ours(self) -> bool:
        """Inside a transaction: lock the claim row and check both claims still hold."""
        row = GatewayClaim.objects.select_for_update().filter(
            gateway=self.gateway, claimed_by=self.token, busy_until__gt=timezone.now())
        if not row.exists():
            return False
        return self.lease is None or self.lease.renew()

    def release(self) -> None:
        GatewayClaim.objects.filter(gateway=self.gateway, claimed_by=self.token).update(
            busy_until=timezone.now(), claimed_by="")
        if self.lease is not None:
            self.lease.release()
            self.lease.client.close()


def _claim_meters(gateway: Gateway, meter_ids: list[int] | None, now: datetime,
                  hold_until: datetime) -> list[Meter]:
    """Due meters (or exactly ``meter_ids``, due or not), each won by compare-and-set."""
    meters = Meter.objects.filter(gateway=gateway, transport=TransportKind.MODBUS)
    if meter_ids is not None:
        meters = meters.filter(pk__in=meter_ids)
    meters = list(meters.select_related("site").order_by("address"))
    PollState.objects.bulk_create([PollState(meter=m, next_poll_at=now) for m in meters],
                                  ignore_conflicts=True)
    seen = dict(PollState.objects.filter(meter__in=meters).values_list("meter_id", "next_poll_at"))
    claimed = []
    for meter in meters:
        if meter_ids is None and seen[meter.pk] > now:
            continue
        if PollState.objects.filter(meter=meter, next_poll_at=seen[meter.pk]).update(
                next_poll_at=hold_until):
            claimed.append(meter)
    return claimed


def _unhold(meters: list[Meter], held_until: datetime, now: datetime) -> None:
    PollState.objects.filter(meter__in=meters, next_poll_at=held_until).update(next_poll_at=now)


# --- the bus ----------------------------------------------------------------------------------

def _transport_settings(gateway: Gateway) -> dict[str, Any]:
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

    def __init__(self, bus: Transport) -> None:
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


async def meter_read(bus: Transport, meter: Meter) -> MeterResult:
    """Read one meter's live quantities through ``bus`` (a BusScheduler, or any Transport);
    a failure becomes the result's error, never an exception."""
    recorder = _RecordingBus(bus)
    base = {"meter_id": meter.pk, "code": meter.code, "address": meter.address}
    try:
        device = MeterDevice(recorder, load_profile(meter.profile), int(meter.address or 0))
        values = await device.read_live()
    except Exception as exc:  # every failure is this meter's result; the others carry on
        return MeterResult(**base, error=type(exc).__name__, message=str(exc) or repr(exc))
    return MeterResult(**base, values=values, raw="\n".join(recorder.lines).encode())


async def _read_meters(gateway: Gateway, meters: list[Meter]) -> list[MeterResult]:
    """All meters' requests queue on one scheduler: one frame in flight, the gap honoured."""
    transport = open_transport(gateway.kind, **_transport_settings(gateway))
    bus = BusScheduler(transport, frame_gap=gateway.frame_gap_ms / 1000, name=gateway.name)
    try:
        return list(await asyncio.gather(*(meter_read(bus, m) for m in meters)))
    finally:
        await bus.close()


# --- storing ----------------------------------------------------------------------------------

def _backoff_s(interval: int, failures: int) -> int:
    """Wait after ``failures`` failed polls in a row: doubling, capped at an hour (or one
    interval, if that is longer)."""
    return min(interval * 2 ** min(failures, 16), max(MAX_BACKOFF_S, interval))


def _reschedule(meters: dict[int, Meter], results: list[MeterResult], now: datetime) -> None:
    failures = dict(PollState.objects.filter(meter_id__in=meters).values_list(
        "meter_id", "failures"))
    for r in results:
        interval = meters[r.meter_id].poll_interval_s
        state = PollState.objects.filter(meter_id=r.meter_id)
        if r.ok:
            state.update(next_poll_at=now + timedelta(seconds=interval), last_ok_at=now,
                         last_error="", failures=0)
        else:
            count = failures.get(r.meter_id, 0) + 1
            state.update(next_poll_at=now + timedelta(seconds=_backoff_s(interval, count)),
                         last_error=f"{r.error}: {r.message}"[:2000], failures=count)


def _store(report: PollReport, claim: _Claim, meters: list[Meter], now: datetime) -> None:
    by_id = {m.pk: m for m in meters}
    with transaction.atomic():
        if not claim.still_ours():
            report.note = "claim or lease lost during the cycle: results discarded (fenced out)"
            return
        report.stored = poll_results_store(meters=by_id, results=report.results, now=now)


def poll_results_store(*, meters: dict[int, Meter], results: list[MeterResult],
                       now: datetime) -> int:
    """Store the successful results as "modbus" readings at ``now`` and reschedule every meter
    in ``meters`` (by id): next interval on success, backed off on failure. Returns rows
    stored. Call it inside the transaction that checks the caller still owns the poll."""
    candidates = [Candidate(meter=meters[r.meter_id], source=MODBUS_SOURCE, time=now,
                            values=r.values, raw=r.raw) for r in results if r.ok]
    stored = readings_store(candidates=candidates).stored
    _reschedule(meters, results, now)
    return stored


# --- the service ------------------------------------------------------------------------------

def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _load_gateway(gateway_id: int) -> Gateway:
    gateway = Gateway.objects.filter(pk=gateway_id).first()
    if gateway is None:
        raise PollError(f"gateway_id: no gateway with id {gateway_id}")
    if not gateway.enabled:
        raise PollError(f"gateway {gateway.name}: disabled")
    _transport_settings(gateway)  # refuse an unpollable gateway before claiming anything
    return gateway


def gateway_poll(*, gateway_id: int, meter_ids: list[int] | None = None,
                 now: datetime | None = None, worker: str = "") -> PollReport:
    """Run one poll cycle of a gateway's Modbus meters; see the module docstring.

    With ``meter_ids`` exactly those meters are read, due or not; otherwise the due ones.
    Returns ``claimed=False`` without touching the bus when another poller holds the gateway.
    Raises PollError for an unknown, disabled or unpollable gateway.
    """
    now = now or timezone.now()
    gateway = _load_gateway(gateway_id)
    report = PollReport(gateway_id=gateway.pk, gateway=gateway.name)
    everyone = list(Meter.objects.filter(gateway=gateway, transport=TransportKind.MODBUS))
    claim = _Claim(gateway, poll_budget_s(gateway, everyone))
    refused = claim.take()
    if refused:
        report.claimed, report.note = False, refused
        return report
    try:
        _run_cycle(report, claim, meter_ids, now, worker or _worker_name())
    finally:
        claim.release()
    return report


def _run_cycle(report: PollReport, claim: _Claim, meter_ids: list[int] | None, now: datetime,
               worker: str) -> None:
    gateway = claim.gateway
    meters = _claim_meters(gateway, meter_ids, now, now + claim.ttl)
    run = PollRun.objects.create(gateway=gateway, worker=worker[:200], fence=claim.fence,
                                 started_at=timezone.now())
    report.run_id, report.fence = run.pk, claim.fence
    if meters:
        try:
            report.results = asyncio.run(_read_meters(gateway, meters))
            _store(report, claim, meters, now)
        except BaseException:
            _unhold(meters, now + claim.ttl, now)  # a retry of the task must find them due
            raise
    else:
        report.note = "no meter due"
    PollRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), meters_ok=len(report.ok), meters_failed=len(report.failed),
        note=report.note)
