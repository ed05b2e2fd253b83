"""The audit trail in the admin: to read and search, never to add, change or delete."""

from __future__ import annotations

from django.contrib import admin

from meters.admin_readonly import ReadOnlyModelAdmin
from meters.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyModelAdmin):
    """Read-only for everyone, superusers included (the model has no change/delete perms)."""

    list_display = ["at", "who", "via", "ip", "kind", "object_repr", "meter_code", "result"]
    list_filter = ["via", "result", "area", "kind"]
    search_fields = ["actor_name", "meter_code", "object_repr", "kind", "detail", "process"]
    date_hierarchy = "at"
    actions = None
    show_full_result_count = False  # no COUNT(*) over a trail of millions on every page
