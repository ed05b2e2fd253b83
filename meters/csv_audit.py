"""The audit records of a CSV import: one summary, and one per meter it created or changed.

A meter's record says what the file changed in the CSV's terms (gateway, site, tenant and labels
by name), so "who changed this meter's CT ratio" has the same answer whether it was changed by
hand, through the API, or by an import. Records are written in bulk, like the meters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from meters.audit.services import Entry, audit_record, audit_record_many
from meters.audit.snapshot import changes
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.rows import MeterRow

# The order of csv_save.STATE_FIELDS, named as the CSV names them.
STATE_NAMES = ["profile", "transport", "gateway", "address", "site", "tenant", "ct_ratio",
               "pt_ratio"]


def _ratio(value: Any) -> str:
    """As the database keeps it (one decimal), so 50 in a file and 50.0 stored are equal."""
    return str(Decimal(value).quantize(Decimal("0.1")))


def _names(model: Any, ids: set[int]) -> dict[int, str]:
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _before_pictures(state: dict[str, tuple[int, tuple[Any, ...]]],
                     labels: dict[int, set[int]]) -> dict[str, dict[str, Any]]:
    values = [old for _, old in state.values()]
    gateways = _names(Gateway, {v[2] for v in values if v[2]})
    sites = _names(Site, {v[4] for v in values if v[4]})
    tenants = _names(Tenant, {v[5] for v in values if v[5]})
    label_names = _names(Label, {i for ids in labels.values() for i in ids})
    pictures = {}
    for code, (meter_id, old) in state.items():
        pictures[code] = {
            "profile": old[0], "transport": old[1], "gateway": gateways.get(old[2], ""),
            "address": old[3], "site": sites.get(old[4], ""), "tenant": tenants.get(old[5], ""),
            "ct_ratio": _ratio(old[6]), "pt_ratio": _ratio(old[7]),
            "labels": sorted(label_names[i] for i in labels.get(meter_id, set())),
        }
    return pictures


def _after_picture(row: MeterRow) -> dict[str, Any]:
    return {"profile": row.profile, "transport": row.transport, "gateway": row.gateway,
            "address": row.address if row.gateway else None, "site": row.site,
            "tenant": row.tenant, "ct_ratio": _ratio(row.ct_ratio),
            "pt_ratio": _ratio(row.pt_ratio), "labels": sorted(row.labels)}


def import_record(*, rows: list[MeterRow], meters: list[Meter],
                  state: dict[str, tuple[int, tuple[Any, ...]]], labels: dict[int, set[int]],
                  summary: dict[str, int]) -> None:
    """Record the import (inside its transaction): the summary, then each meter it touched."""
    import_record_summary(row_count=len(rows), summary=summary)
    import_record_meters(rows=rows, meters=meters, state=state, labels=labels)


def import_record_summary(*, row_count: int, summary: dict[str, int]) -> None:
    """The import's own record: how many rows, and what it did with them."""
    audit_record(kind="import.apply", object_type="csv", object_repr=f"{row_count} rows",
                 after=summary, detail=", ".join(f"{n} {what}" for what, n in summary.items()))


def import_record_meters(*, rows: list[MeterRow], meters: list[Meter],
                         state: dict[str, tuple[int, tuple[Any, ...]]],
                         labels: dict[int, set[int]]) -> None:
    """One record per meter the import created or changed (a streamed import: per chunk)."""
    before = _before_pictures(state, labels)
    entries = []
    for row, meter in zip(rows, meters, strict=True):
        after = _after_picture(row)
        if row.code not in before:
            entries.append(Entry(kind="meter.create", obj=meter, after=after,
                                 detail="created by a CSV import"))
            continue
        old, new = changes(before[row.code], after)
        if old or new:
            entries.append(Entry(kind="meter.update", obj=meter, before=old, after=new,
                                 detail="changed by a CSV import"))
    audit_record_many(entries=entries)
