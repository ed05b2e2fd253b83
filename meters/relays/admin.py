"""Group relay commands in the admin: to read; they change only through their services."""

from __future__ import annotations

from django.contrib import admin

from meters.admin_readonly import ReadOnlyModelAdmin
from meters.relays.models import RelayGroupCommand


@admin.register(RelayGroupCommand)
class RelayGroupCommandAdmin(ReadOnlyModelAdmin):
    list_display = ["requested_at", "action", "output", "meter_count", "state",
                    "requested_by_name", "decided_by_name"]
    list_filter = ["state", "action", "output"]
    search_fields = ["reason", "selection", "requested_by_name", "decided_by_name"]
    date_hierarchy = "requested_at"
    extra_readonly = ("meters",)
