"""The one path into history for MQTT messages and Modbus polls alike: ``readings_store``.

It refuses all-zero messages, values out of range, meter times in the future, backwards energy
counters and implausible counter jumps (recording why: see ``trust``), drops identical
duplicates of (meter, source, time) and keeps conflicting ones as evidence, inserts the rest in
bulk, folds their known quantities into each meter's latest state, marks meters online and
raises or clears alarms, all in one transaction, so a caller that acknowledges after it returns
never acknowledges what was not committed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kpm37.mqtt.topics import TELEIND
from meters.alarms.choices import AlarmKind
from meters.alarms.rules import Condition, Outcome, di_change, evaluate
from meters.alarms.services import alarm_resolve, alarms_apply
from meters.alarms.thresholds import thresholds_for
from meters.choices import MeterStatus
from meters.models import Meter
from meters.names import counters_text
from meters.telemetry import conf
from meters.telemetry.baselines import refused_keep
from meters.telemetry.bulk_write import (
    ReadingRow,
    Stored,
    latest_upsert,
    readings_insert,
    stored_readings,
)
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.dead_letters import Rejected, dead_letters_save
from meters.telemetry.models import LatestState
from meters.telemetry.pipeline import (
    Candidate,
    backwards_counters,
    clock_condition,
    is_all_zero,
    merge_latest,
)
from meters.telemetry.store_checks import Refusal, check_candidate, check_duplicate


@dataclass
class BatchResult:
    """What one batch did: rows stored, duplicates dropped, dead letters by kind."""

    stored: int = 0
    duplicates: int = 0
    dead: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        dead = ", ".join(f"{k} {n}" for k, n in sorted(self.dead.items())) or "none"
        return f"stored {self.stored}, duplicates {self.duplicates}, dead letters: {dead}"

class _Batch:
    """Working state of one readings_store call."""

    def __init__(self, candidates: list[Candidate], received_at: datetime) -> None:
        self.received_at = received_at
        self.candidates = sorted(candidates, key=lambda c: c.time)
        meter_ids = sorted({c.meter.pk for c in candidates})
        # Locking the latest-state rows serialises two ingest processes on one meter, so
        # neither loses the other's merge nor misses a backwards counter.
        self.latest: dict[int, dict[str, dict[str, Any]]] = dict(
            LatestState.objects.select_for_update().filter(meter_id__in=meter_ids)
            .order_by("meter_id").values_list("meter_id", "values"))
        self.changed: set[int] = set()
        self.rows: list[ReadingRow] = []  # plain tuples: no model instance per message
        self.outcomes: list[tuple[int, Outcome]] = []
        self.dead: list[Rejected] = []
        self.refused: list[tuple[Candidate, str]] = []  # backwards counters, kept for a baseline
        self.existing = _existing(self.candidates)

    def state(self, meter_id: int) -> dict[str, dict[str, Any]]:
        return self.latest.setdefault(meter_id, {})


def _existing(candidates: list[Candidate]) -> Stored:
    """The stored values of readings with the candidates' keys, for duplicates and conflicts.

    Asks for the exact times per meter (not one time range across the batch: a meter dated
    year 1 or a backlog flush would widen that range to a meter's whole history)."""
    return stored_readings({(c.meter.pk, c.time) for c in candidates},
                           {c.source for c in candidates})


def _refuse(batch: _Batch, c: Candidate, kind: str, reason: str) -> None:
    batch.dead.append(Rejected(topic=c.source, payload=c.raw, reason=reason, kind=kind,
                               meter_code=c.meter.code))


def _refused(batch: _Batch, c: Candidate, refusal: Refusal | None) -> bool:
    """Record a refusal (dead letter, and its alarm if any); True if there was one."""
    if refusal is None:
        return False
    _refuse(batch, c, refusal.kind, refusal.reason)
    if refusal.outcome:
        batch.outcomes.append((c.meter.pk, refusal.outcome))
    return True


def _conflicting(batch: _Batch, c: Candidate, stored: dict[str, Any]) -> bool:
    """A repeat of a stored key with different values: kept as evidence and alarmed."""
    return _refused(batch, c, check_duplicate(c, stored))


def _check(batch: _Batch, c: Candidate) -> bool:
    """Whether ``c`` may become a reading; refused ones are recorded with the reason."""
    if is_all_zero(c):
        _refuse(batch, c, DeadLetterKind.ALL_ZERO,
                "every value is zero: taken as a meter glitch, not as a reading")
        return False
    refusal = check_candidate(c, batch.state(c.meter.pk), batch.received_at)
    if _refused(batch, c, refusal):
        if refusal is not None and refusal.kind == DeadLetterKind.COUNTER_JUMP:
            batch.refused.append((c, refusal.reason))  # an exchange may jump up: keep it too
        return False
    backwards = backwards_counters(c, batch.state(c.meter.pk))
    if backwards:
        reason = f"energy counter went backwards: {counters_text(backwards)}"
        _refuse(batch, c, DeadLetterKind.COUNTER_BACKWARDS, reason)
        batch.refused.append((c, reason))
        batch.outcomes.append((c.meter.pk, {AlarmKind.COUNTER_BACKWARDS: Condition(
            AlarmKind.COUNTER_BACKWARDS, reason,
            {"counters": {n: {"was": w, "now": v} for n, (w, v) in backwards.items()}})}))
        return False
    return True


def _alarm_outcome(batch: _Batch, c: Candidate, previous_di: float | None) -> Outcome:
    meter = c.meter
    limits = thresholds_for(profile_name=meter.profile, pt_ratio=float(meter.pt_ratio),
                            ct_ratio=float(meter.ct_ratio))
    outcome = evaluate(c.values, limits) if c.is_live else {}
    if c.meter_clock and c.is_live:
        outcome[AlarmKind.CLOCK_OFF] = clock_condition(
            c, batch.received_at, conf.get("TELEMETRY_CLOCK_TOLERANCE_S"))
    if c.source == TELEIND:
        change = di_change(previous_di, c.values.get("di_state"))
        if change is not None:
            outcome[AlarmKind.DI_CHANGE] = change
    return outcome


def _accept(batch: _Batch, c: Candidate) -> None:
    state = batch.state(c.meter.pk)
    previous_di = state.get("di_state", {}).get("value")
    batch.rows.append((c.meter.pk, c.source, c.time, batch.received_at, c.values, c.extra))
    if merge_latest(state, c):
        batch.changed.add(c.meter.pk)
    batch.outcomes.append((c.meter.pk, _alarm_outcome(batch, c, previous_di)))


@transaction.atomic
def readings_store(*, candidates: list[Candidate], dead: Iterable[Rejected] = (),
                   received_at: datetime | None = None) -> BatchResult:
    """Check, deduplicate and store readings; update latest state, meter status and alarms."""
    batch = _Batch(candidates, received_at or timezone.now())
    batch.dead.extend(dead)
    result = BatchResult()
    for c in batch.candidates:
        stored = batch.existing.get(c.key)
        if stored is None:
            if _check(batch, c):
                batch.existing[c.key] = {**c.extra, **c.values}
                _accept(batch, c)
        elif is_all_zero(c) or not _conflicting(batch, c, stored):
            result.duplicates += 1
    inserted = readings_insert(batch.rows)  # COPY; a concurrent repeat is skipped there too
    _save_latest(batch)
    refused_keep(refused=batch.refused, received_at=batch.received_at)
    accepted = {meter_id for meter_id, *_ in batch.rows}
    _mark_seen({c.meter.pk for c in batch.candidates}, batch.received_at, accepted=accepted,
               refused={c.meter.pk for c, _ in batch.refused} - accepted)
    alarms_apply(outcomes=[(m, o) for m, o in batch.outcomes if o], at=batch.received_at)
    dead_letters_save(dead=batch.dead, at=batch.received_at)
    result.stored = inserted
    result.duplicates += len(batch.rows) - inserted
    result.dead.update(d.kind for d in batch.dead)
    return result


def _save_latest(batch: _Batch) -> None:
    """One upsert of the merged state per meter that changed in this batch."""
    latest_upsert([(m, batch.latest[m], batch.received_at) for m in sorted(batch.changed)])


def _mark_seen(meter_ids: set[int], at: datetime, accepted: set[int], refused: set[int]) -> None:
    """Meters that spoke are online, or "data refused" when all they sent was refused for a
    backwards counter (and stay so until a reading is accepted again: a duplicate or an
    all-zero message does not make them Online); an offline alarm clears when one returns."""
    if not meter_ids:
        return
    returning = list(Meter.objects.filter(pk__in=meter_ids, status=MeterStatus.OFFLINE)
                     .values_list("pk", flat=True))
    spoke = Meter.objects.filter(pk__in=meter_ids - refused)
    still_refused = Q(status=MeterStatus.DATA_REFUSED) & ~Q(pk__in=accepted)
    spoke.filter(still_refused).update(last_seen_at=at)
    spoke.exclude(still_refused).update(status=MeterStatus.ONLINE, last_seen_at=at)
    Meter.objects.filter(pk__in=refused).update(status=MeterStatus.DATA_REFUSED, last_seen_at=at)
    for meter_id in returning:
        alarm_resolve(meter_id=meter_id, kind=AlarmKind.OFFLINE, at=at)
