"""App config of meter jobs: built-in kinds are registered and the jobs join the bus owner."""

from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters.jobs"
    label = "jobs"
    verbose_name = "Meter jobs"

    def ready(self) -> None:
        from meters.jobs import builtin_commands, builtin_kinds  # noqa: F401 - register kinds
        from meters.jobs.owner import JOB_SERVER
        from meters.telemetry.poll_bus import register_bus_server

        register_bus_server(JOB_SERVER)
