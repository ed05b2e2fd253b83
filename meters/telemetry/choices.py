"""Choices of the telemetry app; labels and colours live here so templates never branch."""

from django.db import models

MODBUS_SOURCE = "modbus"
"""The ``Reading.source`` of polled readings; MQTT readings carry their topic."""


class DeadLetterKind(models.TextChoices):
    MALFORMED = "malformed", "Malformed payload"
    UNKNOWN_METER = "unknown-meter", "Unknown meter code"
    ALL_ZERO = "all-zero", "All-zero message refused"
    COUNTER_BACKWARDS = "counter-backwards", "Energy counter went backwards"

    @property
    def colour(self) -> str:
        return {"malformed": "red", "unknown-meter": "orange", "all-zero": "grey",
                "counter-backwards": "red"}[self.value]
