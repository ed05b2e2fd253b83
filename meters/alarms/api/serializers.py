"""Alarm API payloads."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meters.alarms.choices import Severity
from meters.alarms.models import Alarm, Notification, NotificationChannel
from meters.roles import ADMIN, has_role


class AlarmSerializer(serializers.ModelSerializer):
    """An alarm with its meter's code and who acknowledged or cleared it."""

    meter_code = serializers.CharField(source="meter.code", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                                   allow_null=True)
    cleared_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                              allow_null=True)

    class Meta:
        model = Alarm
        fields = ["id", "kind", "source", "severity", "meter", "meter_code", "state", "message",
                  "details", "first_seen_at", "last_seen_at", "count", "acknowledged_by",
                  "acknowledged_at", "ack_comment", "cleared_at", "cleared_by"]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    """Body of the acknowledge action."""

    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


@extend_schema_field({"type": "string", "enum": Severity.values,
                      "description": "lowest severity announced"})
class MinSeverityField(serializers.ChoiceField):
    """Severity choice documented inline, so the schema has one enum named Severity."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=Severity.choices, **kwargs)  # type: ignore[arg-type]


class NotificationChannelSerializer(serializers.ModelSerializer):
    """A channel; ``target`` is checked against ``kind`` by the model's clean()."""

    min_severity = MinSeverityField(required=False, default=Severity.MAJOR)

    class Meta:
        model = NotificationChannel
        fields = ["id", "name", "kind", "target", "min_severity", "max_per_hour", "enabled"]


class NotificationSerializer(serializers.ModelSerializer):
    """One delivery attempt (or test) on a channel; ``detail`` (which may name an address) is
    shown to admins only."""

    class Meta:
        model = Notification
        fields = ["id", "channel", "alarm", "sent_at", "ok", "suppressed", "detail"]
        read_only_fields = fields

    def to_representation(self, instance: Notification) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not has_role(request.user, ADMIN):
            data["detail"] = ""
        return data
