"""Admin for tariff plans, their versions (read-only: versions never change) and assignments."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tariffs.models import TariffAssignment, TariffPlan, TariffPlanVersion


class VersionInline(admin.TabularInline):
    model = TariffPlanVersion
    fields = ["number", "created_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TariffPlan)
class TariffPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "latest_number", "updated_at"]
    search_fields = ["name"]
    # Name and currency come from the latest version's document: edit the plan in the editor.
    readonly_fields = ["name", "currency", "latest_number", "created_at", "updated_at"]
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TariffPlanVersion)
class TariffPlanVersionAdmin(admin.ModelAdmin):
    """Versions are evidence for bills: shown, never edited (new ones come from the editor)."""

    list_display = ["plan", "number", "created_at", "created_by"]
    list_filter = ["plan"]
    list_select_related = ["plan", "created_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TariffAssignment)
class TariffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["plan", "meter", "label", "created_at", "created_by"]
    list_filter = ["plan"]
    list_select_related = ["plan", "meter", "label", "created_by"]
    raw_id_fields = ["meter"]
    readonly_fields = ["created_by"]
