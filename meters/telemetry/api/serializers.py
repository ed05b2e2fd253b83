"""Telemetry API payloads, and the ``latest`` section of the meter detail."""

from __future__ import annotations

import base64
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meters import names
from meters.models import Meter, Site, Tenant
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter
from meters.telemetry.selectors import latest_of

LATEST_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {"value": {"type": "number"},
                       "time": {"type": "string", "format": "date-time"},
                       "label": {"type": "string"}, "unit": {"type": "string"},
                       "rate": {"type": "string", "nullable": True,
                                "description": "sharp, peak, flat, valley or deep valley for a "
                                               "per-rate counter"}},
    },
}


@extend_schema_field(LATEST_SCHEMA)
class LatestField(serializers.Field):
    """Every quantity the meter last reported, each with its time (read-only, source="*")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, meter: Meter) -> dict[str, Any]:
        """Each quantity with its value at the meter's resolution, time, label, unit, rate."""
        return {name: {**held, "value": names.rounded(name, held.get("value")),
                       "label": names.label(name), "unit": names.unit(name),
                       "rate": names.rate_of(name)}
                for name, held in latest_of(meter).items()}


class ReadingSerializer(serializers.ModelSerializer):
    """One stored message or poll; ``values`` limited to ``?quantity=`` when given."""

    class Meta:
        model = Reading
        fields = ["time", "source", "received_at", "values", "extra"]
        read_only_fields = fields

    def to_representation(self, instance: Reading) -> dict[str, Any]:
        data = super().to_representation(instance)
        wanted = self.context.get("quantities")
        if wanted:
            data["values"] = {k: v for k, v in data["values"].items() if k in wanted}
            data["extra"] = {}
        data["values"] = {k: names.rounded(k, v) for k, v in data["values"].items()}
        return data


class DeadLetterSerializer(serializers.ModelSerializer):
    """A refused message: its reason, and its raw bytes as text and as base64."""

    payload_text = serializers.CharField(read_only=True)
    payload_base64 = serializers.SerializerMethodField()

    class Meta:
        model = DeadLetter
        fields = ["id", "kind", "topic", "meter_code", "reason", "received_at", "payload_text",
                  "payload_base64"]
        read_only_fields = fields

    def get_payload_base64(self, letter: DeadLetter) -> str:
        return base64.b64encode(bytes(letter.payload)).decode()


class UnregisteredMeterSerializer(serializers.ModelSerializer):
    """A code heard from but not in the inventory."""

    adopted_meter = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = UnregisteredMeter
        fields = ["id", "code", "first_seen_at", "last_seen_at", "message_count",
                  "adopted_meter"]
        read_only_fields = fields


class AdoptSerializer(serializers.Serializer):
    """Body of the adopt action: where the new MQTT meter belongs."""

    site = serializers.SlugRelatedField(slug_field="name", queryset=Site.objects.all(),
                                        required=False, allow_null=True)
    tenant = serializers.SlugRelatedField(slug_field="name", queryset=Tenant.objects.all(),
                                          required=False, allow_null=True)
    profile = serializers.CharField(required=False, default="kpm37")
    poll_interval_s = serializers.IntegerField(
        required=False, min_value=10,
        help_text="seconds; default the METER_DEFAULT_POLL_INTERVAL_S setting")
