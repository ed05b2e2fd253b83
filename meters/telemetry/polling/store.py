"""The storing step of a poll cycle: readings through ``readings_store``, then rescheduling.

A successful meter is next due one interval later; a failing one backs off, doubling per
failure in a row, so a dead meter does not eat the bus time of the live ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from meters.bus import Claim
from meters.models import Meter
from meters.telemetry.choices import MODBUS_SOURCE
from meters.telemetry.models import PollState
from meters.telemetry.pipeline import Candidate
from meters.telemetry.polling.results import MAX_BACKOFF_S, MeterResult, PollReport
from meters.telemetry.store import readings_store


def _backoff_s(interval: int, failures: int) -> int:
    """Wait after ``failures`` failed polls in a row: doubling, capped at an hour (or one
    interval, if that is longer)."""
    return min(interval * 2 ** min(failures, 16), max(MAX_BACKOFF_S, interval))


def read_time(result: MeterResult, cycle_start: datetime) -> datetime:
    """When ``result``'s read finished, in UTC."""
    return cycle_start + timedelta(seconds=result.elapsed_s)


def _reschedule(meters: dict[int, Meter], results: list[MeterResult], now: datetime) -> None:
    failures = dict(PollState.objects.filter(meter_id__in=meters).values_list(
        "meter_id", "failures"))
    for r in results:
        interval = meters[r.meter_id].poll_interval_s
        state = PollState.objects.filter(meter_id=r.meter_id)
        if r.ok:
            state.update(next_poll_at=now + timedelta(seconds=interval),
                         last_ok_at=read_time(r, now), last_error="", failures=0)
        else:
            count = failures.get(r.meter_id, 0) + 1
            state.update(next_poll_at=now + timedelta(seconds=_backoff_s(interval, count)),
                         last_error=f"{r.error}: {r.message}"[:2000], failures=count)


def report_store(report: PollReport, claim: Claim, meters: list[Meter], now: datetime) -> None:
    """Store the report's results, unless the claim was lost meanwhile (then note why)."""
    by_id = {m.pk: m for m in meters}
    with transaction.atomic():
        if not claim.still_ours():
            report.note = "claim or lease lost during the cycle: results discarded (fenced out)"
            return
        report.stored = poll_results_store(meters=by_id, results=report.results, now=now)


def poll_results_store(*, meters: dict[int, Meter], results: list[MeterResult],
                       now: datetime) -> int:
    """Store the successful results as "modbus" readings at the time each was read (``now``,
    the cycle's start, plus its elapsed seconds) and reschedule every meter
    in ``meters`` (by id): next interval on success, backed off on failure. Returns rows
    stored. Call it inside the transaction that checks the caller still owns the poll."""
    candidates = [Candidate(meter=meters[r.meter_id], source=MODBUS_SOURCE,
                            time=read_time(r, now), values=r.values, raw=r.raw)
                  for r in results if r.ok]
    stored = readings_store(candidates=candidates).stored
    _reschedule(meters, results, now)
    return stored
