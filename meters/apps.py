"""App config of the inventory; keeps role groups in step with the permissions after migrate."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # Other apps add models (and so permissions) later; reapply the role table after each migrate.
    from meters.roles import sync_roles

    sync_roles()


class MetersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters"

    def ready(self) -> None:
        # No sender filter: permissions of apps migrated after this one must be granted too.
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="meters.sync_roles")
