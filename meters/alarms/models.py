"""Alarms (from meters and from the platform) and the channels that announce them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator, validate_email
from django.db import models
from django.db.models import Q

from meters.alarms.choices import AlarmKind, AlarmSource, AlarmState, ChannelKind, Severity
from meters.alarms.webhooks import WebhookRefused, webhook_target
from meters.models import Meter


class Alarm(models.Model):
    """One problem on one meter, from first seen until cleared.

    A repeat of an open alarm raises ``count`` and ``last_seen_at`` instead of opening a new one;
    the partial unique constraint holds one open alarm per (meter, kind) even under races.
    ``kind`` is a plain string so new kinds (configuration drift, missing billing read) need no
    migration of existing rows.
    """

    kind = models.CharField(max_length=40, choices=AlarmKind.choices, db_index=True)
    source = models.CharField(max_length=10, choices=AlarmSource.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, db_index=True)
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="alarms")
    state = models.CharField(max_length=15, choices=AlarmState.choices,
                             default=AlarmState.ACTIVE, db_index=True)
    message = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_comment = models.TextField(blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   help_text="empty when the platform cleared it")

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "kind"], condition=~Q(state="cleared"),
                                    name="alarm_one_open_per_meter_kind",
                                    violation_error_message="this meter already has an open "
                                                            "alarm of this kind"),
        ]
        indexes = [models.Index(fields=["state", "severity"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.meter_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state != AlarmState.CLEARED


class NotificationChannel(models.Model):
    """Where alarms are announced: an e-mail address or a webhook URL, rate limited."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    target = models.CharField(max_length=500, help_text="e-mail address or webhook URL")
    min_severity = models.CharField(max_length=10, choices=Severity.choices,
                                    default=Severity.MAJOR)
    max_per_hour = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)],
                                               help_text="further alarms in the hour are "
                                                         "counted, not sent")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            if self.kind == ChannelKind.EMAIL:
                validate_email(self.target)
            else:
                URLValidator(schemes=["http", "https"])(self.target)
        except ValidationError as exc:
            raise ValidationError({"target": f"not a valid {self.kind} target: "
                                             f"{'; '.join(exc.messages)}"}) from exc
        if self.kind == ChannelKind.WEBHOOK:
            try:
                webhook_target(self.target)
            except WebhookRefused as exc:
                raise ValidationError({"target": str(exc)}) from exc


class Notification(models.Model):
    """One attempt to announce an alarm on a channel (or a test): the rate limiter's memory."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE,
                                related_name="notifications")
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="notifications")
    sent_at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    suppressed = models.BooleanField(default=False, help_text="over the rate limit, not sent")
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.channel_id} at {self.sent_at:%Y-%m-%d %H:%M}"
