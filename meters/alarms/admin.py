"""Admin for alarms, notification channels and the delivery log."""

from django.contrib import admin

from meters.alarms.models import Alarm, Notification, NotificationChannel


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["meter", "kind", "severity", "state", "count", "first_seen_at",
                    "last_seen_at"]
    list_filter = ["state", "severity", "kind", "source"]
    search_fields = ["meter__code", "message"]
    raw_id_fields = ["meter", "acknowledged_by", "cleared_by"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "target", "min_severity", "max_per_hour", "enabled"]
    list_filter = ["kind", "enabled"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "channel", "alarm", "ok", "suppressed", "detail"]
    list_filter = ["ok", "suppressed", "channel"]
    raw_id_fields = ["alarm"]
