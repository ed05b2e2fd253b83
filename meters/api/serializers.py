"""Inventory API payloads. Meter writes use the CSV's shape: gateway, site, tenant and labels
by name. Other apps add read-only sections to the meter detail with ``register_detail_field``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meters.models import Gateway, Label, Meter, Site, Tenant

DETAIL_FIELDS: dict[str, Callable[[], serializers.Field]] = {}


def register_detail_field(name: str, make_field: Callable[[], serializers.Field]) -> None:
    """Add a read-only field to ``GET /api/meters/{id}/`` (call from an AppConfig.ready()).

    ``make_field`` returns a fresh field each time, e.g. ``lambda: LatestField(source="*")``.
    """
    DETAIL_FIELDS[name] = make_field


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class LabelNamesField(serializers.Field):
    """Label names as a list, or one string "a;b" like the CSV column."""

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            return [name.strip() for name in data.split(";") if name.strip()]
        if isinstance(data, list) and all(isinstance(item, str) for item in data):
            return data
        raise serializers.ValidationError('expected a list of label names or a "a;b" string')

    def to_representation(self, value: Any) -> list[str]:
        return [label.name for label in value.all()]


class NameField(serializers.SlugRelatedField):
    """A related row shown and chosen by its name."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "name")
        super().__init__(**kwargs)


class MeterSerializer(serializers.ModelSerializer):
    """A meter as the list shows it: decoded code, where it is wired, who it bills."""

    url = serializers.HyperlinkedIdentityField(view_name="meters-api:meter-detail")
    gateway = NameField(read_only=True)
    site = NameField(read_only=True)
    tenant = NameField(read_only=True)
    labels = LabelNamesField(read_only=True)

    class Meta:
        model = Meter
        fields = ["id", "url", "code", "model", "communication", "production_year",
                  "production_month", "serial", "profile", "transport", "gateway", "address",
                  "site", "tenant", "labels", "ct_ratio", "pt_ratio", "poll_interval_s",
                  "status", "last_seen_at", "created_at"]
        read_only_fields = fields


class MeterDetailSerializer(MeterSerializer):
    """One meter, plus links and any sections other apps registered."""

    links = serializers.SerializerMethodField()

    class Meta(MeterSerializer.Meta):
        fields = [*MeterSerializer.Meta.fields, "links"]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, make_field in DETAIL_FIELDS.items():
            fields[name] = make_field()
        return fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, meter: Meter) -> dict[str, str]:
        return {"page": reverse("meters:meter-detail", args=[meter.pk]),
                "alarms": f"/alarms/?meter={meter.code}",
                "live": f"/telemetry/meters/{meter.pk}/live/"}


class MeterWriteSerializer(serializers.Serializer):
    """Create or change a meter with the CSV's fields; unknown sites and tenants are created."""

    code = serializers.CharField(max_length=20)
    profile = serializers.CharField(required=False, allow_blank=True)
    transport = serializers.CharField(required=False, allow_blank=True,
                                      help_text="modbus or mqtt (default: modbus with a gateway)")
    gateway = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                    help_text="gateway name; must exist")
    address = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       max_value=247)
    site = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    tenant = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    labels = LabelNamesField(required=False)
    ct_ratio = serializers.DecimalField(max_digits=7, decimal_places=1, required=False)
    pt_ratio = serializers.DecimalField(max_digits=7, decimal_places=1, required=False)
    poll_interval_s = serializers.IntegerField(
        required=False, allow_null=True, min_value=10, max_value=86400,
        help_text="seconds; default the METER_DEFAULT_POLL_INTERVAL_S setting")

    def as_row(self) -> dict[str, Any]:
        """Validated data in the row parser's shape (None becomes blank)."""
        return {name: ("" if value is None else value if name == "labels" else str(value))
                for name, value in self.validated_data.items()}


class GatewaySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="meters-api:gateway-detail")
    site = NameField(queryset=Site.objects.all(), required=False, allow_null=True)
    meter_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Gateway
        fields = ["id", "url", "name", "kind", "host", "port", "device", "baud", "data_format",
                  "timeout_ms", "frame_gap_ms", "lora_channel", "lora_speed", "site", "enabled",
                  "meter_count"]


class SiteSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="meters-api:site-detail")

    class Meta:
        model = Site
        fields = ["id", "url", "name", "timezone", "address"]


class TenantSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="meters-api:tenant-detail")
    site = NameField(queryset=Site.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Tenant
        fields = ["id", "url", "name", "account", "email", "site"]


class LabelSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="meters-api:label-detail")

    class Meta:
        model = Label
        fields = ["id", "url", "name", "colour"]

