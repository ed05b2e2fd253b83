"""One FilterSet per model, shared by the HTML lists and the API (filters named after fields)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from kpm37.metercode import MODELS
from meters.choices import GatewayKind, MeterStatus, TransportKind
from meters.models import Gateway, Label, Meter, Site, Tenant


class MeterFilterSet(django_filters.FilterSet):
    """``?code=&site=&tenant=&gateway=&label=&status=&model=&transport=&q=&ordering=``.

    Site, tenant, gateway and label take names (what people type and what the CSV uses);
    ``*_id`` variants take ids.
    """

    q = django_filters.CharFilter(method="search", label="Search")
    code = django_filters.CharFilter(lookup_expr="iexact")
    site = django_filters.CharFilter(field_name="site__name", label="Site")
    site_id = django_filters.NumberFilter(field_name="site_id")
    tenant = django_filters.CharFilter(field_name="tenant__name", label="Tenant")
    tenant_id = django_filters.NumberFilter(field_name="tenant_id")
    gateway = django_filters.CharFilter(field_name="gateway__name", label="Gateway")
    gateway_id = django_filters.NumberFilter(field_name="gateway_id")
    label = django_filters.CharFilter(method="with_label", label="Label")
    status = django_filters.ChoiceFilter(choices=MeterStatus.choices)
    model = django_filters.ChoiceFilter(choices=[(m, m) for m in MODELS.values()])
    transport = django_filters.ChoiceFilter(choices=TransportKind.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("code", "code"), ("site__name", "site"), ("tenant__name", "tenant"),
                ("gateway__name", "gateway"), ("address", "address"), ("status", "status"),
                ("last_seen_at", "last_seen_at"), ("model", "model")))

    class Meta:
        model = Meter
        fields = ["profile"]

    def with_label(self, queryset: QuerySet[Meter], name: str, value: str) -> QuerySet[Meter]:
        """Meters carrying the label; a subquery, so no DISTINCT over the whole table."""
        links = Meter.labels.through.objects.filter(label__name=value).values("meter_id")
        return queryset.filter(pk__in=links)

    def search(self, queryset: QuerySet[Meter], name: str, value: str) -> QuerySet[Meter]:
        """Part of the code, tenant or site name."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(tenant__name__icontains=value)
                               | Q(site__name__icontains=value))


class GatewayFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    kind = django_filters.ChoiceFilter(choices=GatewayKind.choices)
    site = django_filters.CharFilter(field_name="site__name")

    class Meta:
        model = Gateway
        fields = ["name", "enabled", "host"]


class SiteFilterSet(django_filters.FilterSet):
    class Meta:
        model = Site
        fields = ["name", "timezone"]


class TenantFilterSet(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__name")

    class Meta:
        model = Tenant
        fields = ["name", "account"]


class LabelFilterSet(django_filters.FilterSet):
    class Meta:
        model = Label
        fields = ["name", "colour"]
