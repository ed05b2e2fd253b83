"""App config of the audit trail: connects the auth-model and task signals once apps are ready."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from meters.audit import context, signals

        signals.connect()
        context.connect_task_signals()
