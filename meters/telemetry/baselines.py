"""A meter reset or exchanged: refused readings are kept, and an operator accepts a new baseline.

After an energy clear (or a new meter under the old code) every counter is lower than the last
accepted one, so ingest refuses each reading as "counter went backwards" (see ``store``; an
exchange to a meter with more on its counters is refused as an implausible jump). Those
readings are kept as ``RefusedReading`` rows. ``counter_baseline_accept`` records who accepted
the reset, when, why, and the counters before and after (a ``CounterBaseline``: billing reads the
two sides as separate periods), moves the meter's latest counters to the first refused reading,
and stores the refused readings from there on through the normal ingest path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from kpm37.quantities import ENERGY_COUNTERS
from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm
from meters.models import Meter
from meters.telemetry.models import CounterBaseline, LatestState, Reading, RefusedReading
from meters.telemetry.pipeline import Candidate

REASON_MAX = 2000


def refused_keep(*, refused: list[tuple[Candidate, str]], received_at: datetime) -> None:
    """Keep readings refused for a backwards counter, so a later baseline can restore them."""
    RefusedReading.objects.bulk_create(
        [RefusedReading(meter_id=c.meter.pk, source=c.source, time=c.time,
                        received_at=received_at, values=c.values, extra=c.extra,
                        reason=reason[:REASON_MAX]) for c, reason in refused],
        ignore_conflicts=True)


def pending_refused(meter: Meter) -> QuerySet[RefusedReading]:
    """Refused readings newer than the meter's newest stored one: those still being refused.
    Older ones were a passing glitch the meter has recovered from; they are not offered."""
    newest = Reading.objects.filter(meter=meter).aggregate(t=Max("time"))["t"]
    rows = RefusedReading.objects.filter(meter=meter)
    return rows.filter(time__gt=newest) if newest is not None else rows


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why the counters may restart (reset, exchange…)"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"at most {REASON_MAX} characters"})
    return reason


def _move_latest(meter: Meter, first: RefusedReading) -> dict[str, float]:
    """Set the meter's latest counters to ``first``'s; returns the counters they had before."""
    state, _ = LatestState.objects.select_for_update().get_or_create(
        meter=meter, defaults={"values": {}, "updated_at": timezone.now()})
    old = {n: state.values[n]["value"] for n in ENERGY_COUNTERS if n in state.values}
    stamp = first.time.isoformat()
    for name in ENERGY_COUNTERS:
        if name in first.values:
            state.values[name] = {"value": first.values[name], "time": stamp}
    state.save(update_fields=["values"])
    return old


@transaction.atomic
def counter_baseline_accept(*, meter: Meter, user: Any, reason: str,
                            now: datetime | None = None) -> CounterBaseline:
    """Accept a reset or exchange: a new baseline from the first refused reading on, recorded,
    and the refused readings from there on stored. Raises ValidationError naming the field."""
    from meters.telemetry.store import readings_store  # store imports this module

    reason = _check_reason(reason)
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    refused = list(pending_refused(meter).order_by("time", "id"))
    if not refused:
        raise ValidationError({"meter": f"meter {meter.code} has no refused readings to accept"})
    first = refused[0]
    now = now or timezone.now()
    old = _move_latest(meter, first)
    new = {n: first.values[n] for n in ENERGY_COUNTERS if n in first.values}
    RefusedReading.objects.filter(pk__in=[r.pk for r in refused]).delete()
    result = readings_store(candidates=[
        Candidate(meter=meter, source=r.source, time=r.time, values=r.values, extra=r.extra)
        for r in refused], received_at=max(r.received_at for r in refused))
    Alarm.objects.filter(meter=meter, kind=AlarmKind.COUNTER_BACKWARDS).exclude(
        state=AlarmState.CLEARED).update(state=AlarmState.CLEARED, cleared_at=now,
                                         cleared_by=user if getattr(user, "pk", None) else None)
    return CounterBaseline.objects.create(
        meter=meter, starts_at=first.time, accepted_by=user if getattr(user, "pk", None) else None,
        accepted_at=now, reason=reason, old_values=old, new_values=new,
        readings_restored=result.stored)


def baselines_of(meter: Meter) -> list[CounterBaseline]:
    """A meter's accepted baselines, newest first (billing splits its periods at each)."""
    return list(CounterBaseline.objects.filter(meter=meter).select_related("accepted_by"))


def refused_summary(meter: Meter) -> dict[str, Any] | None:
    """How many readings are refused, since when, and the newest reason (None if none)."""
    rows = pending_refused(meter)
    last = rows.order_by("-time").first()
    if last is None:
        return None
    first = rows.order_by("time").first()
    return {"count": rows.count(), "since": first.time if first else last.time,
            "until": last.time, "reason": last.reason}
