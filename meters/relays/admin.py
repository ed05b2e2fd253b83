"""Group relay commands in the admin: to read; they change only through their services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from meters.relays.models import RelayGroupCommand


@admin.register(RelayGroupCommand)
class RelayGroupCommandAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "action", "output", "meter_count", "state",
                    "requested_by_name", "decided_by_name"]
    list_filter = ["state", "action", "output"]
    search_fields = ["reason", "selection", "requested_by_name", "decided_by_name"]
    date_hierarchy = "requested_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RelayGroupCommand._meta.fields] + ["meters"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
