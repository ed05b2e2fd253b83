"""Writing the audit trail. Call ``audit_record`` inside the transaction of the change it
records, so that the record and the change are committed (or rolled back) together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from meters.audit.choices import KIND_PATTERN, Result
from meters.audit.context import Source, current_source
from meters.audit.models import AuditRecord
from meters.audit.snapshot import plain

DETAIL_MAX = 4000


@dataclass
class Entry:
    """One record to write with ``audit_record_many`` (a bulk change such as a CSV import)."""

    kind: str
    obj: models.Model | None = None
    meter: Any = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    result: str = Result.OK
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    actor: Any = None  # this record's user, if not the batch's


def _meter_of(obj: models.Model | None, meter: Any) -> Any:
    if meter is not None:
        return meter
    if obj is not None and obj._meta.label == "meters.Meter":
        return obj
    return getattr(obj, "meter", None) if obj is not None else None


def _build(entry: Entry, source: Source, actor: Any, at: Any) -> AuditRecord:
    if not KIND_PATTERN.match(entry.kind):
        raise ValidationError({"kind": f"{entry.kind!r} is not of the form area.action"})
    if entry.result not in Result.values:
        raise ValidationError({"result": f"{entry.result!r} is not one of {Result.values}"})
    obj, meter = entry.obj, _meter_of(entry.obj, entry.meter)
    actor = entry.actor if entry.actor is not None else actor
    actor = actor if actor is not None else source.user()
    record = AuditRecord(
        at=at, actor_id=getattr(actor, "pk", None),
        actor_name=actor.get_username() if actor is not None else "",
        via=source.via, ip=source.ip, user_agent=source.user_agent, process=source.process,
        request_id=source.request_id, kind=entry.kind, area=entry.kind.split(".", 1)[0],
        object_type=entry.extra.get("object_type", obj._meta.label if obj is not None else ""),
        object_id=str(entry.extra.get("object_id", obj.pk if obj is not None else ""))[:64],
        object_repr=str(entry.extra.get("object_repr", obj if obj is not None else ""))[:200],
        meter_id=getattr(meter, "pk", None), meter_code=getattr(meter, "code", "") or "",
        before=plain(entry.before), after=plain(entry.after), result=entry.result,
        detail=entry.detail[:DETAIL_MAX])
    return record


@transaction.atomic
def audit_record(*, kind: str, obj: models.Model | None = None, meter: Any = None,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 result: str = Result.OK, detail: str = "", actor: Any = None,
                 source: Source | None = None, object_type: str = "", object_id: str = "",
                 object_repr: str = "") -> AuditRecord:
    """Append one record. ``actor`` defaults to the request's user, ``source`` to where the
    code runs (request, command, task); ``meter`` defaults to ``obj`` or ``obj.meter``.
    ``object_*`` name an object that is not a model row (a file, a group of meters)."""
    extra = {key: value for key, value in (("object_type", object_type),
                                           ("object_id", object_id),
                                           ("object_repr", object_repr)) if value}
    entry = Entry(kind=kind, obj=obj, meter=meter, before=before, after=after, result=result,
                  detail=detail, extra=extra)
    record = _build(entry, source or current_source(), actor, timezone.now())
    record.save(force_insert=True)
    return record


@transaction.atomic
def audit_record_many(*, entries: Iterable[Entry], actor: Any = None,
                      source: Source | None = None, batch_size: int = 1000) -> int:
    """Append many records at once (same actor, source and time); returns how many."""
    source, at = source or current_source(), timezone.now()
    records = [_build(entry, source, actor, at) for entry in entries]
    AuditRecord.objects.bulk_create(records, batch_size=batch_size)
    return len(records)
