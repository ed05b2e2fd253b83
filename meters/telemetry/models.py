"""Readings, the latest state per meter, dead letters and unregistered meters.

History is one ``Reading`` row per message (meter, source, time) holding a JSON object of
quantity -> value, not one narrow row per quantity. For 10,000 meters sending ~50 quantities a
minute that is 10k rows a minute instead of 500k: 50x fewer index entries and inserts, the
natural deduplication key of a V1.9 message as a unique constraint, and a chart of one quantity
is still a single index range scan on (meter, time) reading one JSON key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from meters.models import Meter
from meters.telemetry.choices import DeadLetterKind


class Reading(models.Model):
    """Everything one message (or one poll) reported, at the meter's time converted to UTC."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    source = models.CharField(max_length=40, help_text="MQTT topic, or 'modbus' for a poll")
    time = models.DateTimeField(help_text="When the meter measured it (UTC)")
    received_at = models.DateTimeField()
    values = models.JSONField(default=dict, help_text="canonical quantity name -> value")
    extra = models.JSONField(default=dict, blank=True,
                             help_text="tags the profile does not know, kept as sent")

    class Meta:
        ordering = ["-time"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "source", "time"],
                                    name="reading_unique_meter_source_time"),
        ]
        indexes = [models.Index(fields=["meter", "time"]), models.Index(fields=["time"])]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.source} {self.time:%Y-%m-%d %H:%M:%S}"


class LatestState(models.Model):
    """The newest value of every quantity a meter reported, each with its own time."""

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, primary_key=True,
                                 related_name="latest_state")
    values = models.JSONField(default=dict, help_text='name -> {"value": v, "time": ISO UTC}')
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"latest state of {self.meter_id}"


class DeadLetter(models.Model):
    """A message ingest could not take as a reading, kept with its raw bytes and the reason."""

    kind = models.CharField(max_length=20, choices=DeadLetterKind.choices, db_index=True)
    topic = models.CharField(max_length=200)
    payload = models.BinaryField()
    reason = models.TextField()
    meter_code = models.CharField(max_length=13, blank=True, db_index=True)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.topic}"

    @property
    def payload_text(self) -> str:
        """The payload as text for display; undecodable bytes shown as replacement marks."""
        return bytes(self.payload).decode("utf-8", errors="replace")


class UnregisteredMeter(models.Model):
    """A meter code that sends data but is not in the inventory, until an operator adopts it."""

    code = models.CharField(max_length=13, unique=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    message_count = models.PositiveIntegerField(default=0)
    adopted_meter = models.ForeignKey(Meter, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.code


class PollState(models.Model):
    """When a polled meter is next due; claimed by compare-and-set so no poll runs twice."""

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, primary_key=True,
                                 related_name="poll_state")
    next_poll_at = models.DateTimeField(db_index=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Polls failed in a row; each one doubles the wait before the next")

    def __str__(self) -> str:
        return f"poll state of {self.meter_id}"


class GatewayClaim(models.Model):
    """Who polls a gateway's bus until when: one poll task per bus at a time."""

    gateway = models.OneToOneField("meters.Gateway", on_delete=models.CASCADE, primary_key=True,
                                   related_name="+")
    busy_until = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True,
                                  help_text="Token of the poll cycle holding the claim")

    def __str__(self) -> str:
        return f"claim on {self.gateway_id}"


class PollRun(models.Model):
    """One poll cycle of one gateway: who ran it, when, what it read, under which fence."""

    gateway = models.ForeignKey("meters.Gateway", on_delete=models.CASCADE,
                                related_name="poll_runs")
    worker = models.CharField(max_length=200, help_text="Celery worker hostname or process")
    fence = models.BigIntegerField(null=True, blank=True,
                                   help_text="Redis lease fencing token, when leases are used")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    meters_ok = models.PositiveIntegerField(default=0)
    meters_failed = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True, help_text="Why a run stored nothing, if it did not")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["gateway", "started_at"])]

    def __str__(self) -> str:
        return f"poll of {self.gateway_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class RefusedReading(models.Model):
    """A live reading refused because an energy counter went backwards, kept as it came so an
    operator who accepts a meter reset or exchange can have it stored after all."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="refused_readings")
    source = models.CharField(max_length=40)
    time = models.DateTimeField(help_text="When the meter measured it (UTC)")
    received_at = models.DateTimeField()
    values = models.JSONField(default=dict)
    extra = models.JSONField(default=dict, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["meter", "time"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "source", "time"],
                                    name="refused_reading_unique_meter_source_time"),
        ]

    def __str__(self) -> str:
        return f"refused {self.meter_id} {self.source} {self.time:%Y-%m-%d %H:%M:%S}"


class CounterBaseline(models.Model):
    """An operator's acceptance of a meter reset or exchange: from ``starts_at`` on its energy
    counters count from ``new_values``. Billing reads the period before and after as two."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="counter_baselines")
    starts_at = models.DateTimeField(help_text="Time of the first reading on the new baseline")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField()
    reason = models.TextField()
    old_values = models.JSONField(default=dict, help_text="counter -> last value before")
    new_values = models.JSONField(default=dict, help_text="counter -> first value after")
    readings_restored = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["meter", "starts_at"])]

    def __str__(self) -> str:
        return f"baseline of {self.meter_id} from {self.starts_at:%Y-%m-%d %H:%M:%S}"
