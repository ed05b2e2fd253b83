"""Admin for telemetry: history, latest state, dead letters, unregistered meters, poll state."""

from django.contrib import admin

from meters.telemetry.models import (
    CounterBaseline,
    DeadLetter,
    GatewayClaim,
    LatestState,
    PollRun,
    PollState,
    Reading,
    RefusedReading,
    UnregisteredMeter,
)


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "source", "time", "received_at"]
    list_filter = ["source"]
    search_fields = ["meter__code"]
    raw_id_fields = ["meter"]
    date_hierarchy = "time"


@admin.register(LatestState)
class LatestStateAdmin(admin.ModelAdmin):
    list_display = ["meter", "updated_at"]
    search_fields = ["meter__code"]
    raw_id_fields = ["meter"]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "topic", "meter_code", "reason"]
    list_filter = ["kind", "topic"]
    search_fields = ["meter_code", "reason"]
    readonly_fields = ["payload_text"]


@admin.register(UnregisteredMeter)
class UnregisteredMeterAdmin(admin.ModelAdmin):
    list_display = ["code", "first_seen_at", "last_seen_at", "message_count", "adopted_meter"]
    search_fields = ["code"]
    raw_id_fields = ["adopted_meter"]


@admin.register(PollState)
class PollStateAdmin(admin.ModelAdmin):
    list_display = ["meter", "next_poll_at", "last_ok_at", "last_error"]
    raw_id_fields = ["meter"]


@admin.register(GatewayClaim)
class GatewayClaimAdmin(admin.ModelAdmin):
    list_display = ["gateway", "busy_until"]


@admin.register(PollRun)
class PollRunAdmin(admin.ModelAdmin):
    list_display = ["gateway", "started_at", "finished_at", "worker", "fence", "meters_ok",
                    "meters_failed", "note"]
    list_filter = ["gateway"]
    search_fields = ["worker", "note"]
    date_hierarchy = "started_at"


@admin.register(RefusedReading)
class RefusedReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "source", "time", "received_at", "reason"]
    search_fields = ["meter__code"]
    raw_id_fields = ["meter"]


@admin.register(CounterBaseline)
class CounterBaselineAdmin(admin.ModelAdmin):
    """Read-only: a baseline is accepted on the meter page or the API, where it is applied."""

    list_display = ["meter", "starts_at", "accepted_by", "accepted_at", "reason",
                    "readings_restored"]
    search_fields = ["meter__code", "reason"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
