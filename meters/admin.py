"""Admin for every inventory model: lists, filters, search and autocomplete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from meters.models import Gateway, Label, Meter, Site, Tenant


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "address"]
    list_filter = ["timezone"]
    search_fields = ["name", "address"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "email", "site"]
    list_filter = ["site"]
    search_fields = ["name", "account", "email"]
    autocomplete_fields = ["site"]
    filter_horizontal = ["viewers"]
    list_select_related = ["site"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "colour"]
    search_fields = ["name"]


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "host", "port", "device", "baud", "data_format", "site",
                    "enabled", "meter_count"]
    list_filter = ["kind", "enabled", "baud", "site"]
    search_fields = ["name", "host", "device"]
    autocomplete_fields = ["site"]
    list_select_related = ["site"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Gateway]:
        # Annotating drops the model's default ordering; keep lists and autocomplete stable.
        return (super().get_queryset(request).annotate(meter_count=Count("meters"))
                .order_by("name"))

    @admin.display(ordering="meter_count", description="Meters")
    def meter_count(self, gateway: Any) -> int:
        return int(gateway.meter_count)


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    """Meters; the decoded code fields, the status and last-seen time are shown, never typed in
    (the platform sets those from what the meter sends)."""

    list_display = ["code", "model", "transport", "gateway", "address", "site", "tenant",
                    "status", "last_seen_at"]
    list_filter = ["status", "transport", "model", "communication", "profile", "site",
                   "gateway", "labels"]
    search_fields = ["code", "tenant__name", "site__name", "gateway__name"]
    autocomplete_fields = ["gateway", "site", "tenant", "labels"]
    list_select_related = ["gateway", "site", "tenant"]
    readonly_fields = ["model", "communication", "production_year", "production_month",
                       "serial", "status", "last_seen_at", "created_at"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["code", "profile", ("model", "communication"),
                           ("production_year", "production_month", "serial")]}),
        ("Transport", {"fields": ["transport", ("gateway", "address"), "poll_interval_s"]}),
        ("Ownership", {"fields": ["site", "tenant", "labels"]}),
        ("Ratios", {"fields": [("ct_ratio", "pt_ratio")]}),
        ("State", {"fields": ["status", "last_seen_at", "created_at"]}),
    ]
