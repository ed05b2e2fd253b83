"""Admin for meter jobs: read-only evidence (a job is changed only by its lifecycle)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from meters.jobs.models import MeterJob, ReportedState


@admin.register(MeterJob)
class MeterJobAdmin(admin.ModelAdmin):
    list_display = ["id", "meter", "kind", "state", "priority", "requested_by_name",
                    "attempts", "created_at", "finished_at"]
    list_filter = ["state", "kind", "priority"]
    search_fields = ["meter__code", "idempotency_key", "reason", "requested_by_name"]
    list_select_related = ["meter"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in MeterJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are submitted through the API, the pages or manage.py meter

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportedState)
class ReportedStateAdmin(admin.ModelAdmin):
    list_display = ["meter", "updated_at"]
    search_fields = ["meter__code"]
    readonly_fields = ["meter", "values", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
