"""``manage.py setup_roles``: create the role groups and (re)apply their permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from meters.roles import sync_roles


class Command(BaseCommand):
    help = "Create the admin, operator, billing and tenant-viewer groups and set their permissions."

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in sync_roles().items():
            self.stdout.write(f"{role}: {count} permissions")
