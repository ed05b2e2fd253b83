"""meters.telemetry app."""
from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters.telemetry"
    label = "telemetry"

    def ready(self) -> None:
        # The meter detail API shows the latest state through the inventory's extension hook.
        from meters.api.serializers import register_detail_field
        from meters.telemetry.api.serializers import LatestField

        register_detail_field("latest", lambda: LatestField(source="*"))
