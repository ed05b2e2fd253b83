"""Alarm kinds, sources, severities and states, with their labels and colours."""

from django.db import models


class AlarmSource(models.TextChoices):
    METER = "meter", "Meter"
    PLATFORM = "platform", "Platform"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    WARNING = "warning", "Warning"

    @property
    def colour(self) -> str:
        return {"critical": "red", "major": "orange", "minor": "amber", "warning": "blue"}[
            self.value]

    @property
    def rank(self) -> int:
        """Higher is worse; channels notify at or above a rank."""
        return {"critical": 4, "major": 3, "minor": 2, "warning": 1}[self.value]


class AlarmState(models.TextChoices):
    ACTIVE = "active", "Active"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLEARED = "cleared", "Cleared"

    @property
    def colour(self) -> str:
        return {"active": "red", "acknowledged": "amber", "cleared": "green"}[self.value]


class AlarmKind(models.TextChoices):
    VOLTAGE_LOSS = "voltage-loss", "Voltage loss"
    UNDER_VOLTAGE = "under-voltage", "Under-voltage"
    OVER_VOLTAGE = "over-voltage", "Over-voltage"
    OVER_CURRENT = "over-current", "Over-current"
    OVERLOAD = "overload", "Overload"
    VOLTAGE_IMBALANCE = "voltage-imbalance", "Voltage imbalance"
    CURRENT_IMBALANCE = "current-imbalance", "Current imbalance"
    RESIDUAL_CURRENT = "residual-current", "Residual current"
    TEMPERATURE = "temperature", "Temperature"
    DI_CHANGE = "di-change", "Digital input changed"
    OFFLINE = "offline", "Offline"
    CLOCK_OFF = "clock-off", "Meter clock off"
    COUNTER_BACKWARDS = "counter-backwards", "Energy counter went backwards"
    COUNTER_JUMP = "counter-jump", "Implausible energy counter jump"
    DUPLICATE_CONFLICT = "duplicate-conflict", "Conflicting duplicate reading"

    @property
    def source(self) -> str:
        platform = {"offline", "clock-off", "counter-backwards", "counter-jump",
                    "duplicate-conflict"}
        return AlarmSource.PLATFORM if self.value in platform else AlarmSource.METER

    @property
    def severity(self) -> str:
        return DEFAULT_SEVERITY.get(self.value, Severity.MAJOR)


DEFAULT_SEVERITY = {
    "voltage-loss": Severity.CRITICAL,
    "offline": Severity.CRITICAL,
    "residual-current": Severity.CRITICAL,
    "over-voltage": Severity.MAJOR,
    "under-voltage": Severity.MAJOR,
    "over-current": Severity.MAJOR,
    "overload": Severity.MAJOR,
    "temperature": Severity.MAJOR,
    "counter-backwards": Severity.MAJOR,
    "counter-jump": Severity.MAJOR,
    "duplicate-conflict": Severity.MAJOR,
    "voltage-imbalance": Severity.MINOR,
    "current-imbalance": Severity.MINOR,
    "clock-off": Severity.MINOR,
    "di-change": Severity.WARNING,
}


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"
