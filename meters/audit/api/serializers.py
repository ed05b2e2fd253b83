"""The audit record in the API (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from meters.audit.models import AuditRecord


class AuditRecordSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    user = serializers.CharField(source="actor_name", read_only=True)
    meter = serializers.CharField(source="meter_code", read_only=True)
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = AuditRecord
        fields = ["id", "at", "user", "actor_id", "via", "ip", "user_agent", "process",
                  "request_id", "kind", "kind_label", "area", "object_type", "object_id",
                  "object_repr", "meter", "meter_id", "before", "after", "result", "detail"]
        read_only_fields = fields
