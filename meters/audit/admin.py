"""The audit trail in the admin: to read and search, never to add, change or delete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from meters.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included (the model has no change/delete perms)."""

    list_display = ["at", "who", "via", "ip", "kind", "object_repr", "meter_code", "result"]
    list_filter = ["via", "result", "area", "kind"]
    search_fields = ["actor_name", "meter_code", "object_repr", "kind", "detail", "process"]
    date_hierarchy = "at"
    actions = None
    show_full_result_count = False  # no COUNT(*) over a trail of millions on every page

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
