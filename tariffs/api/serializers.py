"""Serializers of the tariff API. The plan document itself is checked by
:func:`tariffs.document.parse_plan` (which names every place); these describe its shape for
the OpenAPI schema and render plans, versions and query parameters."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meters.models import Label, Meter, Site
from tariffs.models import TariffPlan, TariffPlanVersion


class PriceStepSerializer(serializers.Serializer):
    valid_from = serializers.DateField()
    price = serializers.DecimalField(max_digits=12, decimal_places=6, min_value=0)


class RateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=6, min_value=0)
    later_prices = PriceStepSerializer(many=True, required=False)


class PeriodSerializer(serializers.Serializer):
    start = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$", help_text="hh:mm")
    rate = serializers.IntegerField(min_value=1, max_value=5)


class ZoneSerializer(serializers.Serializer):
    start = serializers.RegexField(r"^(0\d|1[0-2])-[0-3]\d$", help_text="MM-DD")
    day_table = serializers.IntegerField(min_value=1, max_value=8)


class SetSerializer(serializers.Serializer):
    zones = ZoneSerializer(many=True)
    day_tables = serializers.DictField(child=PeriodSerializer(many=True),
                                       help_text="day table number -> periods")


class PlanDocumentSerializer(serializers.Serializer):
    """The plan as JSON: what the API takes and answers, and what files hold."""

    name = serializers.CharField(max_length=100)
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, e.g. CNY")
    billing_day = serializers.IntegerField(min_value=1, max_value=28)
    timezone = serializers.CharField(required=False, help_text="IANA zone; default UTC")
    profile = serializers.CharField(required=False, help_text="meter profile; default kpm37")
    note = serializers.CharField(required=False, allow_blank=True)
    rates = serializers.DictField(child=RateSerializer(), help_text="rate number 1-5 -> rate")
    sets = SetSerializer(many=True, help_text="[active set, standby set]")
    switch_zones_at = serializers.CharField(required=False, allow_null=True,
                                            help_text="local YYYY-MM-DDThh:mm")
    switch_day_tables_at = serializers.CharField(required=False, allow_null=True,
                                                 help_text="local YYYY-MM-DDThh:mm")


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True,
                                       allow_null=True)

    class Meta:
        model = TariffPlanVersion
        fields = ["number", "created_at", "created_by"]


class TariffPlanSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="latest_number", read_only=True)
    assignment_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = TariffPlan
        fields = ["id", "name", "currency", "version", "assignment_count", "created_at",
                  "updated_at"]


class TariffPlanDetailSerializer(TariffPlanSerializer):
    document = serializers.SerializerMethodField()
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(TariffPlanSerializer.Meta):
        fields = [*TariffPlanSerializer.Meta.fields, "document", "versions"]

    def get_document(self, plan: TariffPlan) -> dict[str, Any]:
        version = self.context.get("version") or plan.latest
        return dict(version.document)


class ValidationAnswerSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class VersionQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), required=False,
                                              help_text="count in this site's time zone")


class PreviewQuerySerializer(VersionQuerySerializer):
    date = serializers.DateField(help_text="YYYY-MM-DD (1970-2099)")

    def validate_date(self, value: date) -> date:
        # The same span as hours' month/year; 9999-12-31 would overflow the day's last hour.
        if not 1970 <= value.year <= 2099:
            raise serializers.ValidationError("a date is between 1970 and 2099")
        return value


class HoursQuerySerializer(VersionQuerySerializer):
    month = serializers.CharField(required=False, help_text="YYYY-MM")
    year = serializers.IntegerField(required=False, min_value=1970, max_value=2099)

    def validate_month(self, value: str) -> tuple[int, int]:
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not match or not 1 <= int(match[2]) <= 12 or not 1970 <= int(match[1]) <= 2099:
            raise serializers.ValidationError("a month is YYYY-MM (1970-2099)")
        return int(match[1]), int(match[2])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("month" in attrs) == ("year" in attrs):
            raise serializers.ValidationError("give either month=YYYY-MM or year=YYYY")
        return attrs


class HourSerializer(serializers.Serializer):
    start = serializers.CharField()
    local_time = serializers.CharField()
    rate = serializers.IntegerField()
    rate_name = serializers.CharField()
    price = serializers.CharField(allow_null=True)


class PreviewSerializer(serializers.Serializer):
    date = serializers.DateField()
    timezone = serializers.CharField()
    version = serializers.IntegerField()
    hours = HourSerializer(many=True)


class HoursSerializer(serializers.Serializer):
    period = serializers.CharField()
    timezone = serializers.CharField()
    version = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    hours = serializers.DictField(child=serializers.DecimalField(max_digits=10,
                                                                 decimal_places=2))
    rate_names = serializers.DictField(child=serializers.CharField())


class AssignSerializer(serializers.Serializer):
    meters = serializers.PrimaryKeyRelatedField(queryset=Meter.objects.all(), many=True,
                                                required=False)
    labels = serializers.SlugRelatedField(slug_field="name", queryset=Label.objects.all(),
                                          many=True, required=False)
    unassign = serializers.BooleanField(default=False)


class ProgramSerializer(serializers.Serializer):
    meters = serializers.PrimaryKeyRelatedField(queryset=Meter.objects.all(), many=True,
                                                required=False)


class ProgramJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    meter = serializers.CharField()
    state = serializers.CharField()


class ProgramAnswerSerializer(serializers.Serializer):
    jobs = ProgramJobSerializer(many=True)


class SetStateSerializer(serializers.Serializer):
    which = serializers.CharField()
    state = serializers.ChoiceField(["in-sync", "drifted", "pending", "failed", "unknown"])
    when = serializers.DateTimeField(allow_null=True, help_text="meter-local switch-over")
    why = serializers.CharField(allow_blank=True)


class MeterTouSerializer(serializers.Serializer):
    """A meter's TOU state against its plan (the meter page's panel, as data)."""

    meter = serializers.CharField(source="meter.code", required=False)
    plan = serializers.CharField(source="plan.name", allow_null=True, default=None)
    why = serializers.CharField()
    sets = SetStateSerializer(many=True)
    job = serializers.IntegerField(source="job.pk", allow_null=True, default=None)
    job_state = serializers.CharField(source="job.state", allow_null=True, default=None)


@extend_schema_field(MeterTouSerializer)
class MeterTouField(serializers.Field):
    """The meter's TOU state on ``GET /api/meters/{id}/`` (read-only, source="*")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, meter: Meter) -> dict[str, Any]:
        from tariffs.tou_status import meter_tou_status

        return dict(MeterTouSerializer(meter_tou_status(meter)).data)


class FleetTouSerializer(serializers.Serializer):
    meters = serializers.IntegerField(help_text="meters with a plan (counted)")
    counts = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="in-sync, drifted, pending, failed, unknown")
    capped = serializers.BooleanField(help_text="true: only the first meters were counted")
