"""App config of relay control: registers its audit kinds."""

from django.apps import AppConfig


class RelaysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters.relays"
    label = "relays"
    verbose_name = "Relay control"

    def ready(self) -> None:
        from meters.audit.choices import register_kinds

        register_kinds({
            "relay.command": "Relay command",
            "relay.group": "Relay group command requested",
            "relay.approve": "Relay group command approved",
            "relay.reject": "Relay group command rejected",
            "relay.dispatch": "Relay group command sent out",
            "relay.result": "Relay command outcome",
        })
