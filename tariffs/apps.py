"""tariffs app: time-of-use plans, and their programming into meters as meter jobs."""
from django.apps import AppConfig


class TariffsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tariffs"

    def ready(self) -> None:
        # Programming is a kind of meter job, and the meter and fleet pages show TOU state
        # through the inventory's panel hook: meters never imports tariffs.
        from meters.api.serializers import register_detail_field
        from meters.audit.choices import register_kinds
        from meters.jobs.kinds import register_kind
        from meters.panels import Panel, register_fleet_panel, register_meter_panel
        from tariffs.api.serializers import MeterTouField
        from tariffs.tou_job import ProgramTou

        register_kind(ProgramTou())
        register_kinds({"tariff.create": "Tariff plan created",
                        "tariff.update": "Tariff plan changed (new version)",
                        "tariff.delete": "Tariff plan deleted",
                        "tariff.assign": "Tariff plan assigned",
                        "tariff.unassign": "Tariff plan unassigned",
                        "tariff.program": "Tariff programming queued"})
        register_detail_field("tariff", lambda: MeterTouField(source="*"))
        # Every role may view plans, so the panels need no permission check on the page.
        register_meter_panel(Panel("Time-of-use tariff", "tariffs:meter-tou"))
        register_fleet_panel(Panel("Time-of-use tariffs", "tariffs:fleet-tou"))
