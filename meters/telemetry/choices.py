"""Choices of the telemetry app; labels and colours live here so templates never branch."""

from django.db import models

MODBUS_SOURCE = "modbus"
"""The ``Reading.source`` of polled readings; MQTT readings carry their topic."""


class DeadLetterKind(models.TextChoices):
    MALFORMED = "malformed", "Malformed payload"
    UNKNOWN_METER = "unknown-meter", "Unknown meter code"
    ALL_ZERO = "all-zero", "All-zero message refused"
    COUNTER_BACKWARDS = "counter-backwards", "Energy counter went backwards"
    TOO_LARGE = "too-large", "Message too large"
    BAD_TIME = "bad-time", "Meter time out of range"
    COUNTER_JUMP = "counter-jump", "Implausible energy counter jump"
    DUPLICATE_CONFLICT = "duplicate-conflict", "Conflicting duplicate reading"
    UNSTORABLE = "unstorable", "Could not be stored"

    @property
    def colour(self) -> str:
        return {"malformed": "red", "unknown-meter": "orange", "all-zero": "grey",
                "counter-backwards": "red", "too-large": "red", "bad-time": "orange",
                "counter-jump": "red", "duplicate-conflict": "orange",
                "unstorable": "red"}[self.value]
