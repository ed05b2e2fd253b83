"""Jobs on a Modbus gateway, run by the owner of its bus: the poller that holds its claim.

There is never a second master: a job only runs inside a poll cycle's :class:`BusSession`
(today's gateway claim plus Redis lease), on the same BusScheduler as the polls. The owner's
thread watches the outbox every ``JOBS_PICKUP_S`` while the bus works, so a relay job queued
during a long billing read is claimed at once and its frames go out on the scheduler's urgent
lane at the next frame. Jobs on one meter run one at a time, in priority order; up to
``JOBS_PER_BUS`` meters' jobs share the bus at once (their frames interleave by rank).
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from meters.jobs import lifecycle, selectors
from meters.jobs.choices import Priority
from meters.jobs.outcome import FAILED, Outcome
from meters.jobs.runner import attempt_modbus, spec_of
from meters.models import Gateway
from meters.telemetry.poll_bus import BusSession

log = logging.getLogger(__name__)
RENEW_EVERY_S = 2.0


class JobServer:
    """The bus server (meters.telemetry.poll_bus.BusServer) that runs meter jobs."""

    def has_work(self, gateway: Gateway) -> bool:
        return selectors.jobs_runnable_on(gateway=gateway).exists()

    def serve(self, *, session: BusSession, claim: Any, busy: Callable[[], bool]) -> None:
        _Serving(session, claim).run(busy)


class _Serving:
    def __init__(self, session: BusSession, claim: Any) -> None:
        self.session = session
        self.claim = claim
        self.owner = claim.token
        self.running: dict[int, concurrent.futures.Future[Outcome]] = {}
        self.lease_s = lifecycle.lease_seconds()
        self.pickup_s = float(getattr(settings, "JOBS_PICKUP_S", 0.05))
        self.per_bus = int(getattr(settings, "JOBS_PER_BUS", 4))
        self.holding = True
        self._renewed = time.monotonic()

    def run(self, busy: Callable[[], bool]) -> None:
        while True:
            self._settle_finished()
            started = self._start_due() if self.holding else 0
            self._renew()
            if not self.running and not started and not busy():
                return
            time.sleep(self.pickup_s)

    def _start_due(self) -> int:
        started = 0
        candidates = selectors.jobs_runnable_on(gateway=self.claim.gateway)[:self.per_bus * 4]
        for job in candidates:
            urgent = job.priority == Priority.RELAY
            if len(self.running) >= self.per_bus and not urgent:
                continue
            if lifecycle.job_start(job_id=job.pk, owner=self.owner, lease_s=self.lease_s):
                self.running[job.pk] = self.session.start(
                    attempt_modbus(spec_of(job), self.session.bus))
                started += 1
        return started

    def _settle_finished(self) -> None:
        for job_id, future in list(self.running.items()):
            if not future.done():
                continue
            del self.running[job_id]
            try:
                outcome = future.result()
            except BaseException as exc:  # the bus closed under it: a real failure, reported
                outcome = Outcome(FAILED, failure=f"internal error: {type(exc).__name__}: {exc}")
            lifecycle.job_settle(job_id=job_id, owner=self.owner, outcome=outcome)

    def _renew(self) -> None:
        if time.monotonic() - self._renewed < RENEW_EVERY_S:
            return
        self._renewed = time.monotonic()
        if self.holding and not self.claim.extend(self.lease_s):
            log.warning("gateway %s: claim lost; starting no more jobs", self.claim.gateway)
            self.holding = False
        if self.running:
            lifecycle.jobs_renew(job_ids=list(self.running), owner=self.owner,
                                 lease_s=self.lease_s)


JOB_SERVER = JobServer()
