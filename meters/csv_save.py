"""Saving a validated meter import in bulk: a few dozen queries for 10,000 rows.

The file is streamed again in chunks, twice: first the meters that exist (updates: a meter
moving off an address frees it for a new one in the same file), then the new ones. Sites,
tenants and labels are looked up (and created) once per name for the whole file.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from meters.bulk_update import update_meters
from meters.csv_audit import import_record_meters, import_record_summary
from meters.import_plan import (
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
SAVE_CHUNK = 5000  # rows saved together: a few MB of Meter objects, a dozen queries


class ImportRefused(Exception):
    """The plan has problems (or the database changed under it); nothing was saved."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


class _Names:
    """Ids of sites, tenants, labels and gateways by name, each looked up once per import."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = {"site": {}, "tenant": {}, "label": {},
                                               "gateway": {}}
        self.dial_in: set[str] = set()

    def ensure(self, rows: list[MeterRow]) -> dict[str, dict[str, int]]:
        """Create the unknown sites, tenants and labels ``rows`` name; return all ids."""
        self._named(Site, "site", {row.site for row in rows if row.site},
                    {row.site: row.timezone for row in rows if row.timezone})
        self._tenants(rows)
        self._named(Label, "label", {name for row in rows for name in row.labels})
        gateways = {row.gateway for row in rows if row.gateway} - self.ids["gateway"].keys()
        if gateways:
            found, dial_in = gateways_by_name(gateways)
            self.ids["gateway"].update(found)
            self.dial_in |= dial_in
        return self.ids

    def _named(self, model: type[Site] | type[Label], kind: str, names: set[str],
               zones: dict[str, str] | None = None) -> None:
        """Create the unknown ones (a site in the zone the file gives it, else UTC)."""
        zones = zones or {}
        known = self.ids[kind]
        new = names - known.keys()
        if not new:
            return
        model.objects.bulk_create([model(name=n, **({"timezone": zones[n]} if n in zones else {}))
                                   for n in new], batch_size=BATCH, ignore_conflicts=True)
        known.update(model.objects.filter(name__in=new).values_list("name", "id"))

    def _tenants(self, rows: list[MeterRow]) -> None:
        known = self.ids["tenant"]
        # A new tenant belongs to the site of the first row naming it.
        site_of = {row.tenant: self.ids["site"].get(row.site) for row in reversed(rows)
                   if row.tenant and row.tenant not in known}
        if not site_of:
            return
        Tenant.objects.bulk_create([Tenant(name=name, site_id=site) for name, site in
                                    site_of.items()], batch_size=BATCH, ignore_conflicts=True)
        known.update(Tenant.objects.filter(name__in=site_of).values_list("name", "id"))


def _build(row: MeterRow, stored: tuple[int, tuple[Any, ...]] | None,
           ids: dict[str, dict[str, int]], dial_in: set[str]) -> Meter:
    """An unsaved Meter for ``row`` (with its id when stored), names resolved to ids."""
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
    """Save a validated plan: update changed meters, then create new ones, all or nothing."""
    if not plan.ok:
        raise ImportRefused(plan.problems)
    names, counts = _Names(), {"created": 0, "updated": 0, "unchanged": 0}
    try:
        for creating in (False, True):
            done = 0
            for chunk in chunks((row for _, row in plan.rows()), SAVE_CHUNK):
                _save_chunk(chunk, creating, names, counts)
                done += len(chunk)
                progress("create" if creating else "update", done, plan.row_count)
    except IntegrityError as exc:  # e.g. two meters swapping addresses, or a concurrent edit
        raise ImportRefused([ImportProblem(0, "", f"the database refused the change: {exc}")]
                            ) from exc
    import_record_summary(row_count=plan.row_count, summary=counts)
    return ImportResult(**counts)


def _save_chunk(rows: list[MeterRow], creating: bool, names: _Names,
                counts: dict[str, int]) -> None:
    """Create the new meters of ``rows`` (``creating``) or update the existing ones."""
    state, current_labels = _current_state([row.code for row in rows])
    rows = [row for row in rows if (row.code in state) != creating]
    if not rows:
        return
    ids = names.ensure(rows)
    meters = [_build(row, None if creating else state[row.code], ids, names.dial_in)
              for row in rows]
    if creating:
        Meter.objects.bulk_create(meters, batch_size=BATCH)
        counts["created"] += len(meters)
    else:
        changed = [m for m in meters if _values(m) != state[m.code][1]]
        for start in range(0, len(changed), BATCH):
            update_meters(changed[start:start + BATCH])
        counts["updated"] += len(changed)
        counts["unchanged"] += len(meters) - len(changed)
    _save_labels(meters, rows, ids["label"], {} if creating else current_labels)
    import_record_meters(rows=rows, meters=meters, state={} if creating else state,
                         labels={} if creating else current_labels)


def _values(meter: Meter) -> tuple[Any, ...]:
    return tuple(getattr(meter, name) for name in STATE_FIELDS)
