"""App config of the inventory; keeps role groups in step with the permissions after migrate."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate fires once per app, in app order, each time after that app's permissions are
    # created; syncing at the last one grants permissions of apps migrated after this one too.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if with_models and sender.label == with_models[-1].label:
        from meters.roles import sync_roles

        sync_roles()


class MetersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="meters.sync_roles")
