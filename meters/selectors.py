"""Inventory reads, already scoped to what a user may see and joined for display.

A tenant viewer sees only meters of tenants it views; admin, operator and billing see all;
anyone else sees nothing. Other apps scope their rows by meter through ``meters_visible_to``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from meters.choices import MeterStatus
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.roles import has_any_role, is_fleet_wide


def meters_visible_to(user: Any) -> QuerySet[Meter]:
    """Meters ``user`` may see (no joins: cheap to use in subqueries and ``exists()``)."""
    if is_fleet_wide(user):
        return Meter.objects.all()
    if has_any_role(user):
        return Meter.objects.filter(tenant__viewers=user)
    return Meter.objects.none()


def meter_list(*, user: Any) -> QuerySet[Meter]:
    """Visible meters joined for the fleet table and the API (constant number of queries)."""
    return (meters_visible_to(user)
            .select_related("gateway", "site", "tenant")
            .prefetch_related("labels"))


def meter_status_counts(meters: QuerySet[Meter]) -> dict[str, int]:
    """Meters per status (every status present, zero if none), in one query."""
    totals = meters.aggregate(
        total=Count("pk"),
        **{status.value: Count("pk", filter=Q(status=status.value)) for status in MeterStatus},
    )
    return totals


def tenants_visible_to(user: Any) -> QuerySet[Tenant]:
    if is_fleet_wide(user):
        return Tenant.objects.select_related("site")
    if has_any_role(user):
        return Tenant.objects.filter(viewers=user).select_related("site")
    return Tenant.objects.none()


def sites_visible_to(user: Any) -> QuerySet[Site]:
    if is_fleet_wide(user):
        return Site.objects.all()
    if has_any_role(user):
        return Site.objects.filter(meters__tenant__viewers=user).distinct()
    return Site.objects.none()


def labels_visible_to(user: Any) -> QuerySet[Label]:
    return Label.objects.all() if has_any_role(user) else Label.objects.none()


def gateway_list(*, user: Any) -> QuerySet[Gateway]:
    """Gateways with their meter counts; only fleet-wide roles see buses."""
    if not is_fleet_wide(user):
        return Gateway.objects.none()
    return (Gateway.objects.select_related("site").annotate(meter_count=Count("meters"))
            .order_by("name"))
