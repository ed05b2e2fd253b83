"""Polling Modbus meters: one cycle of one gateway's bus, claimed so only one poller runs it.

A cycle claims the gateway (compare-and-set on GatewayClaim and, when REDIS_URL is set, kpm37's
GatewayLease whose fencing token stamps the run), claims the due meters (compare-and-set on
PollState.next_poll_at), reads every meter's live quantities through one BusScheduler in one
event loop, stores the successes through ``readings_store`` (the path MQTT readings take) and
reschedules each meter, backing off from the failing ones.

``gateway_poll`` is deliberately not one transaction: the claim has to be visible to other
workers while the bus works, and a bus cycle of seconds must not hold database locks. Each step
commits on its own; the storing step re-checks that the claim is still ours first.

This is the public module; the steps live in ``poll_claims``, ``poll_bus`` and ``poll_store``,
the shared types in ``poll_results``, and the names callers use are re-exported here.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from functools import cache

from django.db.models import Q
from django.utils import timezone

from kpm37.device import live_quantities
from kpm37.planner import plan_reads
from kpm37.profile import load_profile
from meters.choices import TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.models import GatewayClaim, PollRun
from meters.telemetry.poll_bus import (
    BusSession,
    bus_servers,
    meter_read,
    meters_read_on,
    transport_settings,
)
from meters.telemetry.poll_claims import Claim, meters_claim, meters_unhold
from meters.telemetry.poll_results import (
    CLAIM_MARGIN_S,
    MAX_BACKOFF_S,
    POLLED_KINDS,
    MeterResult,
    PollError,
    PollReport,
)
from meters.telemetry.poll_store import poll_results_store, report_store

__all__ = [
    "CLAIM_MARGIN_S",
    "MAX_BACKOFF_S",
    "POLLED_KINDS",
    "MeterResult",
    "PollError",
    "PollReport",
    "gateway_poll",
    "gateways_due",
    "meter_read",
    "poll_budget_s",
    "poll_results_store",
]


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


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _load_gateway(gateway_id: int) -> Gateway:
    gateway = Gateway.objects.filter(pk=gateway_id).first()
    if gateway is None:
        raise PollError(f"gateway_id: no gateway with id {gateway_id}")
    if not gateway.enabled:
        raise PollError(f"gateway {gateway.name}: disabled")
    transport_settings(gateway)  # refuse an unpollable gateway before claiming anything
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
    claim = Claim(gateway, poll_budget_s(gateway, everyone))
    refused = claim.take()
    if refused:
        report.claimed, report.note = False, refused
        return report
    try:
        _run_cycle(report, claim, meter_ids, now, worker or _worker_name())
    finally:
        claim.release()
    for _ in range(AGAIN_ROUNDS):
        # Work queued while this cycle was finishing found the claim taken and left it to us:
        # after releasing, look again, so that nothing waits for the next sweep.
        if not _work_waits(gateway) or not _jobs_only_cycle(gateway, worker):
            break
    return report


AGAIN_ROUNDS = 3


def _jobs_only_cycle(gateway: Gateway, worker: str) -> bool:
    """One more cycle without polls; False if another owner holds the bus meanwhile."""
    claim = Claim(gateway, CLAIM_MARGIN_S)
    if claim.take():
        return False
    report = PollReport(gateway_id=gateway.pk, gateway=gateway.name)
    try:
        _run_cycle(report, claim, [], timezone.now(), worker or _worker_name())
    finally:
        claim.release()
    return True


def _work_waits(gateway: Gateway) -> bool:
    return any(server.has_work(gateway) for server in bus_servers())


def _bus_cycle(claim: Claim, meters: list[Meter]) -> list[MeterResult]:
    """Poll ``meters`` and serve the bus's other work (jobs) on one scheduler, one owner."""
    with BusSession(claim.gateway) as session:
        polls = session.start(meters_read_on(session.bus, meters))
        for server in bus_servers():
            server.serve(session=session, claim=claim, busy=lambda: not polls.done())
        return polls.result()


def _run_cycle(report: PollReport, claim: Claim, meter_ids: list[int] | None, now: datetime,
               worker: str) -> None:
    gateway = claim.gateway
    meters = meters_claim(gateway, meter_ids, now, now + claim.ttl)
    run = PollRun.objects.create(gateway=gateway, worker=worker[:200], fence=claim.fence,
                                 started_at=timezone.now())
    report.run_id, report.fence = run.pk, claim.fence
    if meters or _work_waits(gateway):
        try:
            report.results = _bus_cycle(claim, meters)
            report_store(report, claim, meters, now)
        except BaseException:
            meters_unhold(meters, now + claim.ttl, now)  # a retry of the task must find them due
            raise
    else:
        report.note = "no meter due"
    PollRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), meters_ok=len(report.ok), meters_failed=len(report.failed),
        note=report.note)
