"""Inventory writes. Pages, the API and the CSV import all create and change meters here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Model, ProtectedError

from kpm37.profile import profile_names
from meters.audit.services import audit_record
from meters.audit.snapshot import changes, snapshot
from meters.choices import GatewayKind
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.rows import MeterRow, RowErrors, parse_meter_row


def _record_change(instance: Model, before: dict[str, Any] | None,
                   after: dict[str, Any] | None) -> None:
    """Record a create (no ``before``), a delete (no ``after``) or the fields an update changed.
    """
    area = instance._meta.model_name
    if before is None:
        audit_record(kind=f"{area}.create", obj=instance, after=after)
    elif after is None:
        audit_record(kind=f"{area}.delete", obj=instance, before=before)
    else:
        old, new = changes(before, after)
        if old or new:
            audit_record(kind=f"{area}.update", obj=instance, before=old, after=new)


def site_get_or_create(*, name: str) -> Site | None:
    """The site called ``name``, created if unknown (blank name: no site)."""
    if not name:
        return None
    site, created = Site.objects.get_or_create(name=name)
    if created:
        _record_change(site, None, snapshot(site))
    return site


def tenant_get_or_create(*, name: str, site: Site | None) -> Tenant | None:
    """The tenant called ``name``, created at ``site`` if unknown (blank name: no tenant)."""
    if not name:
        return None
    tenant, created = Tenant.objects.get_or_create(name=name, defaults={"site": site})
    if created:
        _record_change(tenant, None, snapshot(tenant))
    return tenant


def labels_get_or_create(*, names: tuple[str, ...]) -> list[Label]:
    """Labels by name, creating the unknown ones."""
    existing = {label.name: label for label in Label.objects.filter(name__in=names)}
    missing = [Label(name=name) for name in names if name not in existing]
    Label.objects.bulk_create(missing)
    for label in missing:
        _record_change(label, None, snapshot(label))
    return [*existing.values(), *missing]


@transaction.atomic
def inventory_save(*, instance: Model | None, save: Callable[[], Model]) -> Model:
    """Save a site, tenant or label with ``save`` (e.g. a validated serializer's) and record
    it; ``instance`` is the row before the change, None for a new one."""
    before = snapshot(instance) if instance is not None else None
    saved = save()
    _record_change(saved, before, snapshot(saved))
    return saved


def _gateway_for(row: MeterRow, errors: RowErrors) -> Gateway | None:
    if not row.gateway:
        return None
    gateway = Gateway.objects.filter(name=row.gateway).first()
    if gateway is None:
        errors["gateway"] = f"unknown gateway {row.gateway!r} (create it first)"
    return gateway


def _check_clashes(row: MeterRow, gateway: Gateway | None, meter: Meter | None,
                   errors: RowErrors) -> None:
    others = Meter.objects.exclude(pk=meter.pk) if meter else Meter.objects.all()
    if others.filter(code=row.code).exists():
        errors.setdefault("code", f"a meter with code {row.code} already exists")
    # Dial-in meters each have a link of their own: their unit ids may repeat on the gateway.
    if gateway and gateway.kind != GatewayKind.DIAL_IN and row.address is not None:
        holder = others.filter(gateway=gateway, address=row.address).first()
        if holder:
            errors.setdefault("address", f"address {row.address} is already used on gateway "
                                         f"{gateway.name} by meter {holder.code}")


NAMED_MODELS = {"site": Site, "tenant": Tenant, "labels": Label}


def names_user_may_not_create(user: Any, names: dict[str, set[str]]) -> dict[str, set[str]]:
    """Of the site, tenant and label ``names`` (by column), the unknown ones ``user`` may not
    create (no ``add_`` permission): naming one must not create what /api/<rows>/ refuses."""
    refused: dict[str, set[str]] = {}
    for column, wanted in names.items():
        model = NAMED_MODELS[column]
        if not wanted or user.has_perm(f"meters.add_{model._meta.model_name}"):
            continue
        unknown = set(wanted) - set(model.objects.filter(name__in=wanted)
                                    .values_list("name", flat=True))
        if unknown:
            refused[column] = unknown
    return refused


def unknown_name_reason(column: str, names: set[str]) -> str:
    noun = {"site": "site", "tenant": "tenant", "labels": "label"}[column]
    return (f"unknown {noun} {sorted(names)[0]!r}; your role may not create {noun}s "
            f"(choose an existing one, or ask an admin)")


def _check_creatable(row: MeterRow, user: Any, errors: RowErrors) -> None:
    names = {"site": {row.site} - {""}, "tenant": {row.tenant} - {""}, "labels": set(row.labels)}
    for column, unknown in names_user_may_not_create(user, names).items():
        errors.setdefault(column, unknown_name_reason(column, unknown))


def _validated(raw: dict[str, Any], meter: Meter | None,
               user: Any = None) -> tuple[MeterRow, Gateway | None]:
    """Parse and check one meter against the database; raises ValidationError by field.

    ``user`` (None: a command-line import, no limit) must be allowed to create any site, tenant
    or label it names that does not exist yet.
    Returns the row and its gateway, looked up once for both the check and the save."""
    row, errors = parse_meter_row(raw, profile_names())
    gateway = _gateway_for(row, errors)
    if not errors:
        _check_clashes(row, gateway, meter, errors)
    if not errors and user is not None:
        _check_creatable(row, user, errors)
    if errors:
        raise ValidationError(dict(errors))
    return row, gateway


def _apply_row(meter: Meter, checked: tuple[MeterRow, Gateway | None]) -> Meter:
    row, gateway = checked
    site = site_get_or_create(name=row.site)
    meter.code, meter.profile, meter.transport = row.code, row.profile, row.transport
    meter.gateway = gateway
    meter.address = row.address if row.gateway else None
    meter.site = site
    meter.tenant = tenant_get_or_create(name=row.tenant, site=site)
    meter.ct_ratio, meter.pt_ratio = row.ct_ratio, row.pt_ratio
    if row.poll_interval_s is not None:
        meter.poll_interval_s = row.poll_interval_s
    elif meter.pk is None:
        meter.poll_interval_s = settings.METER_DEFAULT_POLL_INTERVAL_S
    meter.save()
    meter.labels.set(labels_get_or_create(names=row.labels))
    return meter


@transaction.atomic
def meter_create(*, raw: dict[str, Any], user: Any = None) -> Meter:
    """Create a meter from CSV-shaped fields (gateway, site, tenant and labels by name);
    unknown sites, tenants and labels are created if ``user`` may create them."""
    meter = _apply_row(Meter(), _validated(raw, None, user))
    _record_change(meter, None, meter_as_row(meter))
    return meter


@transaction.atomic
def meter_update(*, meter: Meter, raw: dict[str, Any], user: Any = None) -> Meter:
    """Change a meter; ``raw`` missing a field keeps the meter's current value."""
    before = meter_as_row(meter)
    merged = {**before, **raw}
    meter = _apply_row(meter, _validated(merged, meter, user))
    _record_change(meter, before, meter_as_row(meter))
    return meter


def meter_as_row(meter: Meter) -> dict[str, Any]:
    """A meter in the CSV/API write shape (names, not ids)."""
    return {
        "code": meter.code, "profile": meter.profile, "transport": meter.transport,
        "gateway": meter.gateway.name if meter.gateway else "",
        "address": "" if meter.address is None else str(meter.address),
        "site": meter.site.name if meter.site else "",
        "tenant": meter.tenant.name if meter.tenant else "",
        "labels": [label.name for label in meter.labels.all()],
        "ct_ratio": str(meter.ct_ratio), "pt_ratio": str(meter.pt_ratio),
        "poll_interval_s": str(meter.poll_interval_s),
    }


@transaction.atomic
def meter_delete(*, meter: Meter) -> None:
    """Remove a meter from the inventory."""
    _record_change(meter, meter_as_row(meter), None)
    meter.delete()


@transaction.atomic
def inventory_delete(*, instance: Model) -> None:
    """Delete a site, tenant, label or gateway; refused while meters or gateways still use it.

    Gateways and meters point at sites and gateways with PROTECT: deleting a bus must never
    silently unwire meters, so the refusal says which rows to move or delete first.
    """
    _record_change(instance, snapshot(instance), None)
    try:  # a refusal raises out of this transaction, taking the record above with it
        instance.delete()
    except ProtectedError as exc:
        raise ValidationError(_still_used(instance, exc.protected_objects)) from exc


def _still_used(instance: Model, users: Any) -> str:
    counts = Counter(str(user._meta.verbose_name_plural) for user in users)
    used_by = " and ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    return (f"{instance._meta.verbose_name} {instance} is still used by {used_by}; "
            f"move or delete them first")


@transaction.atomic
def gateway_create(*, fields: dict[str, Any]) -> Gateway:
    """Create a gateway after checking its fields (host/port or device per kind)."""
    gateway = Gateway(**fields)
    gateway.full_clean()
    gateway.save()
    _record_change(gateway, None, snapshot(gateway))
    return gateway


@transaction.atomic
def gateway_update(*, gateway: Gateway, fields: dict[str, Any]) -> Gateway:
    """Change a gateway's fields and check the result.

    Turning a dial-in listener into a bus gateway (or back) changes whether its meters share
    one bus, so it is refused while two of them use the same address."""
    before = snapshot(gateway)
    for name, value in fields.items():
        setattr(gateway, name, value)
    gateway.full_clean()
    shares_bus = gateway.kind != GatewayKind.DIAL_IN
    if shares_bus:
        _refuse_address_clashes(gateway)
    gateway.save()
    Meter.objects.filter(gateway=gateway).exclude(shares_bus=shares_bus).update(
        shares_bus=shares_bus)
    _record_change(gateway, before, snapshot(gateway))
    return gateway


def _refuse_address_clashes(gateway: Gateway) -> None:
    clash = (Meter.objects.filter(gateway=gateway).values("address")
             .annotate(n=Count("id")).filter(n__gt=1).order_by("address").first())
    if clash:
        raise ValidationError({"kind": f"meters of gateway {gateway.name} share address "
                                       f"{clash['address']}; on one bus addresses must differ"})
