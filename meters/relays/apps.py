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
            "job.write": "Configuration write", "job.set_clock": "Meter clock set",
            "job.clear_energy": "Energy counters cleared",
            "job.upload_interval": "Upload interval set (V1.9)",
            "job.mqtt_reconfig": "MQTT settings reset (V1.9)",
        })
