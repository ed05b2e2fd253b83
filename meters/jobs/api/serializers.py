"""Job serializers: the job as the API answers it, and the read / write / submit requests."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from meters.jobs.models import MeterJob

REASON_MAX = 2000


class JobSerializer(serializers.ModelSerializer[MeterJob]):
    """A job with its state, who and why, the read-back, the failure and the evidence."""

    meter_code = serializers.CharField(source="meter.code", read_only=True)
    gateway = serializers.CharField(source="gateway_name", read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    requested_by = serializers.CharField(source="requested_by_name", read_only=True)

    class Meta:
        model = MeterJob
        fields = ["id", "meter", "meter_code", "kind", "payload", "priority", "priority_label",
                  "state", "requested_by", "reason", "idempotency_key", "not_before",
                  "expires_at", "attempts", "failure", "failed_value", "last_error", "result",
                  "transport", "gateway", "meter_clock", "evidence", "evidence_sha256",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class _Request(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX,
                                   default="")
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                            default="")


class ReadRequestSerializer(_Request):
    """``{"names": [...]}``; no names reads every readable parameter."""

    names = serializers.ListField(child=serializers.CharField(max_length=64), required=False,
                                  max_length=500, default=list)


class WriteRequestSerializer(_Request):
    """``{"values": {"name": value}, "reason": "..."}``: a write says why."""

    values = serializers.DictField(child=serializers.JSONField(), allow_empty=False)
    reason = serializers.CharField(max_length=REASON_MAX)

    def validate_values(self, values: dict[str, Any]) -> dict[str, Any]:
        if len(values) > 123:
            raise serializers.ValidationError("at most 123 values in one write")
        return values


class SubmitRequestSerializer(_Request):
    """Any kind: ``{"kind": "set_clock", "payload": {...}, "reason": "..."}``."""

    kind = serializers.CharField(max_length=40)
    payload = serializers.DictField(required=False, default=dict)
