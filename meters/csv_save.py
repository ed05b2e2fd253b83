"""Saving a validated meter import in bulk: a few dozen queries for 10,000 rows."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from meters.csv_import import (
    BATCH,
    ImportPlan,
    ImportProblem,
    ImportResult,
    Progress,
    chunks,
    existing_codes,
    no_progress,
)
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.rows import MeterRow

UPDATED_FIELDS = ["profile", "transport", "gateway", "address", "site", "tenant", "ct_ratio",
                  "pt_ratio", "model", "communication", "production_year", "production_month",
                  "serial"]


class ImportRefused(Exception):
    """The plan has problems (or the database changed under it); nothing was saved."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def _ensure_named(model: type[Site] | type[Label], names: set[str]) -> dict[str, int]:
    found = dict(model.objects.filter(name__in=names).values_list("name", "id"))
    model.objects.bulk_create([model(name=n) for n in names - found.keys()], batch_size=BATCH,
                              ignore_conflicts=True)
    return dict(model.objects.filter(name__in=names).values_list("name", "id"))


def _ensure_tenants(rows: list[MeterRow], sites: dict[str, int]) -> dict[str, int]:
    site_of = {row.tenant: sites.get(row.site) for row in reversed(rows) if row.tenant}
    found = dict(Tenant.objects.filter(name__in=site_of).values_list("name", "id"))
    Tenant.objects.bulk_create([Tenant(name=name, site_id=site_of[name])
                                for name in site_of.keys() - found.keys()],
                               batch_size=BATCH, ignore_conflicts=True)
    return dict(Tenant.objects.filter(name__in=site_of).values_list("name", "id"))


def _build(row: MeterRow, meter_id: int | None, ids: dict[str, dict[str, int]]) -> Meter:
    meter = Meter(id=meter_id, code=row.code, profile=row.profile, transport=row.transport,
                  gateway_id=ids["gateway"].get(row.gateway), address=row.address,
                  site_id=ids["site"].get(row.site), tenant_id=ids["tenant"].get(row.tenant),
                  ct_ratio=row.ct_ratio, pt_ratio=row.pt_ratio)
    if meter.gateway_id is None:
        meter.address = None
    meter.fill_decoded_code()
    return meter


def _save_labels(meters: list[Meter], rows: list[MeterRow], labels: dict[str, int],
                 replaced: list[int]) -> None:
    through = Meter.labels.through
    for chunk in chunks(replaced):  # type: ignore[arg-type]
        through.objects.filter(meter_id__in=chunk).delete()
    links = [through(meter_id=meter.id, label_id=labels[name])
             for meter, row in zip(meters, rows, strict=True) for name in row.labels]
    through.objects.bulk_create(links, batch_size=BATCH * 2)


@transaction.atomic
def meter_import_apply(*, plan: ImportPlan, progress: Progress = no_progress) -> ImportResult:
    """Save a validated plan: update known meters, create new ones, all or nothing."""
    if not plan.ok:
        raise ImportRefused(plan.problems)
    rows = [row for _, row in plan.rows]
    sites = _ensure_named(Site, {row.site for row in rows if row.site})
    ids = {"site": sites, "tenant": _ensure_tenants(rows, sites),
           "gateway": dict(Gateway.objects.filter(name__in={r.gateway for r in rows})
                           .values_list("name", "id"))}
    labels = _ensure_named(Label, {name for row in rows for name in row.labels})
    known = existing_codes([row.code for row in rows])
    meters = [_build(row, known.get(row.code), ids) for row in rows]
    try:
        _write(meters, progress)
    except IntegrityError as exc:  # someone changed the inventory since validation
        raise ImportRefused([ImportProblem(0, "", f"the inventory changed meanwhile: {exc}")]
                            ) from exc
    _save_labels(meters, rows, labels, list(known.values()))
    progress("save", len(meters), len(meters))
    return ImportResult(created=len(meters) - len(known), updated=len(known))


def _write(meters: list[Meter], progress: Progress) -> None:
    # Updates first: a meter moving off an address frees it for a new meter in the same file.
    updates = [m for m in meters if m.id is not None]
    creates = [m for m in meters if m.id is None]
    for start in range(0, len(updates), BATCH):
        with transaction.atomic():
            Meter.objects.bulk_update(updates[start:start + BATCH], UPDATED_FIELDS)
        progress("save", start, len(meters))
    for start in range(0, len(creates), BATCH):
        Meter.objects.bulk_create(creates[start:start + BATCH])
        progress("save", len(updates) + start, len(meters))
