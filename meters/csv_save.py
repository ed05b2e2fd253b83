"""Saving a validated meter import in bulk: a few dozen queries for 10,000 rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from meters.bulk_update import update_meters
from meters.csv_audit import import_record
from meters.csv_import import (
    BATCH,
    ImportPlan,
    ImportProblem,
    ImportResult,
    Progress,
    chunks,
    gateways_by_name,
    no_progress,
)
from meters.models import Label, Meter, Site, Tenant
from meters.rows import MeterRow

STATE_FIELDS = ["profile", "transport", "gateway_id", "address", "site_id", "tenant_id",
                "ct_ratio", "pt_ratio", "shares_bus", "poll_interval_s"]
THROUGH = Meter.labels.through


class ImportRefused(Exception):
    """The plan has problems (or the database changed under it); nothing was saved."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def _ensure_named(model: type[Site] | type[Label], names: set[str],
                  zones: dict[str, str] | None = None) -> dict[str, int]:
    """Ids by name, creating the missing ones (sites in the zone the file gives, else UTC)."""
    zones = zones or {}
    found = dict(model.objects.filter(name__in=names).values_list("name", "id"))
    model.objects.bulk_create([model(name=n, **({"timezone": zones[n]} if n in zones else {}))
                               for n in names - found.keys()], batch_size=BATCH,
                              ignore_conflicts=True)
    return dict(model.objects.filter(name__in=names).values_list("name", "id"))


def _ensure_tenants(rows: list[MeterRow], sites: dict[str, int]) -> dict[str, int]:
    site_of = {row.tenant: sites.get(row.site) for row in reversed(rows) if row.tenant}
    found = dict(Tenant.objects.filter(name__in=site_of).values_list("name", "id"))
    Tenant.objects.bulk_create([Tenant(name=name, site_id=site_of[name])
                                for name in site_of.keys() - found.keys()],
                               batch_size=BATCH, ignore_conflicts=True)
    return dict(Tenant.objects.filter(name__in=site_of).values_list("name", "id"))


def _build(row: MeterRow, stored: tuple[int, tuple[Any, ...]] | None,
           ids: dict[str, dict[str, int]], dial_in: set[str]) -> Meter:
    # Without a poll_interval_s a stored meter keeps its own; a new one gets the default.
    interval = row.poll_interval_s or (stored[1][STATE_FIELDS.index("poll_interval_s")]
                                       if stored else settings.METER_DEFAULT_POLL_INTERVAL_S)
    meter = Meter(id=stored[0] if stored else None, code=row.code, profile=row.profile,
                  transport=row.transport, gateway_id=ids["gateway"].get(row.gateway),
                  address=row.address, site_id=ids["site"].get(row.site),
                  tenant_id=ids["tenant"].get(row.tenant), ct_ratio=row.ct_ratio,
                  pt_ratio=row.pt_ratio, poll_interval_s=interval)
    if meter.gateway_id is None:
        meter.address = None
    meter.shares_bus = row.gateway not in dial_in
    meter.fill_decoded_code()
    return meter


def _current_state(codes: list[str]) -> tuple[dict[str, tuple[int, tuple[Any, ...]]],
                                               dict[int, set[int]]]:
    """(id, field values) by code and label ids by meter id, for meters already stored."""
    state: dict[str, tuple[int, tuple[Any, ...]]] = {}
    for chunk in chunks(codes):
        for code, meter_id, *values in Meter.objects.filter(code__in=chunk).values_list(
                "code", "id", *STATE_FIELDS):
            state[code] = (meter_id, tuple(values))
    label_ids: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks([meter_id for meter_id, _ in state.values()]):
        for meter_id, label_id in THROUGH.objects.filter(meter_id__in=chunk).values_list(
                "meter_id", "label_id"):
            label_ids[meter_id].add(label_id)
    return state, label_ids


def _save_labels(meters: list[Meter], rows: list[MeterRow], labels: dict[str, int],
                 current: dict[int, set[int]]) -> None:
    """Replace the label links of meters whose labels differ from the file's."""
    wanted = {meter.id: {labels[name] for name in row.labels}
              for meter, row in zip(meters, rows, strict=True)}
    stale = [meter_id for meter_id in current if wanted.get(meter_id) != current[meter_id]]
    for chunk in chunks(stale):
        THROUGH.objects.filter(meter_id__in=chunk).delete()
    links = [THROUGH(meter_id=meter_id, label_id=label_id)
             for meter_id, label_ids in wanted.items()
             if label_ids != current.get(meter_id, set()) for label_id in label_ids]
    THROUGH.objects.bulk_create(links, batch_size=BATCH * 2)


@transaction.atomic
def meter_import_apply(*, plan: ImportPlan, progress: Progress = no_progress) -> ImportResult:
    """Save a validated plan: update changed meters, create new ones, all or nothing."""
    if not plan.ok:
        raise ImportRefused(plan.problems)
    rows = [row for _, row in plan.rows]
    sites = _ensure_named(Site, {row.site for row in rows if row.site},
                          {row.site: row.timezone for row in rows if row.timezone})
    gateways, dial_in = gateways_by_name({row.gateway for row in rows if row.gateway})
    ids = {"site": sites, "tenant": _ensure_tenants(rows, sites), "gateway": gateways}
    labels = _ensure_named(Label, {name for row in rows for name in row.labels})
    state, current_labels = _current_state([row.code for row in rows])
    meters = [_build(row, state.get(row.code), ids, dial_in) for row in rows]
    changed = [m for m in meters if m.id is not None and _values(m) != state[m.code][1]]
    try:
        _write(changed, [m for m in meters if m.id is None], progress)
    except IntegrityError as exc:  # e.g. two meters swapping addresses, or a concurrent edit
        raise ImportRefused([ImportProblem(0, "", f"the database refused the change: {exc}")]
                            ) from exc
    _save_labels(meters, rows, labels, current_labels)
    result = ImportResult(created=len(meters) - len(state), updated=len(changed),
                          unchanged=len(state) - len(changed))
    import_record(rows=rows, meters=meters, state=state, labels=current_labels,
                  summary={"created": result.created, "updated": result.updated,
                           "unchanged": result.unchanged})
    progress("save", len(meters), len(meters))
    return result


def _values(meter: Meter) -> tuple[Any, ...]:
    return tuple(getattr(meter, name) for name in STATE_FIELDS)


def _write(updates: list[Meter], creates: list[Meter], progress: Progress) -> None:
    # Updates first: a meter moving off an address frees it for a new meter in the same file.
    total = len(updates) + len(creates)
    for start in range(0, len(updates), BATCH):
        update_meters(updates[start:start + BATCH])
        progress("save", start, total)
    for start in range(0, len(creates), BATCH):
        Meter.objects.bulk_create(creates[start:start + BATCH])
        progress("save", len(updates) + start, total)
