"""Relay commands and group commands in the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from meters.relays.choices import FROM_JOB_STATE, Action, CommandState, GroupState, Output
from meters.relays.models import RelayGroupCommand


class RelayRequestSerializer(serializers.Serializer):
    output = serializers.ChoiceField(choices=Output.choices)
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(max_length=500, help_text="Why (required, 5+ characters)")


class RelayCommandSerializer(serializers.Serializer):
    """A relay command (its meter job, in relay words): queued, sent, confirmed, failed..."""

    id = serializers.IntegerField(source="pk", help_text="The meter job's id (/api/jobs/{id}/)")
    meter = serializers.CharField(source="meter.code")
    meter_id = serializers.IntegerField()
    output = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    reason = serializers.CharField()
    state = serializers.SerializerMethodField(help_text=", ".join(CommandState.values))
    job_state = serializers.CharField(source="state")
    requested_by = serializers.CharField(source="requested_by_name")
    created_at = serializers.DateTimeField()
    not_before = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    failure = serializers.CharField()
    read_back = serializers.SerializerMethodField()

    def get_output(self, job: Any) -> int | None:
        return job.payload.get("output")

    def get_action(self, job: Any) -> str | None:
        return job.payload.get("action")

    def get_state(self, job: Any) -> str:
        return str(FROM_JOB_STATE[job.state].value)

    def get_read_back(self, job: Any) -> dict[str, Any]:
        values = job.result.get("values", {}) if isinstance(job.result, dict) else {}
        return values if isinstance(values, dict) else {}


class OutputStateSerializer(serializers.Serializer):
    output = serializers.IntegerField()
    closed = serializers.BooleanField(allow_null=True)
    read_at = serializers.CharField(allow_null=True)
    control_mode = serializers.CharField()
    output_mode = serializers.CharField()


class MeterRelaysSerializer(serializers.Serializer):
    outputs = OutputStateSerializer(many=True)
    commands = RelayCommandSerializer(many=True)


class GroupRequestSerializer(serializers.Serializer):
    output = serializers.ChoiceField(choices=Output.choices)
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(max_length=500)
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    codes = serializers.ListField(child=serializers.CharField(max_length=13), required=False,
                                  max_length=10000, default=list)
    confirm_count = serializers.IntegerField(required=False, allow_null=True, default=None,
                                             min_value=0, max_value=10**6,
                                             help_text="The number of meters, typed back "
                                                       "(needed above the approval size)")


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RelayGroupSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=GroupState.choices, read_only=True)
    meters = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = RelayGroupCommand
        fields = ["id", "output", "action", "reason", "selection", "meter_count", "meters",
                  "state", "needs_approval", "rate_per_minute", "requested_by_name",
                  "requested_at", "decided_by_name", "decided_at", "decision_note",
                  "dispatched_at"]
        read_only_fields = fields
