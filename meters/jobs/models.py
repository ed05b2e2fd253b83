"""The meter job (an outbox row, then its run, result and evidence) and the reported state.

A job is written to the database first and only then dispatched, so a lost task message or a
crashed worker loses nothing: the sweep finds the row again. ``owner`` and ``lease_until`` say
which bus owner runs it and until when that owner must show it is alive.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from meters.jobs.choices import FINAL_STATES, JobState, Priority
from meters.models import Meter


class MeterJob(models.Model):
    """One action on one meter: what, why, who, how urgent, and what came of it."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=40, help_text="A registered job kind (meters.jobs.kinds)")
    payload = models.JSONField(default=dict, blank=True,
                               help_text="Arguments in the profile's names, e.g. "
                                         '{"values": {"ct_ratio": 100}}')
    priority = models.PositiveSmallIntegerField(choices=Priority.choices,
                                                default=Priority.OPERATOR_WRITE)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150, blank=True,
                                         help_text="Who asked, kept if the user is deleted")
    reason = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    not_before = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED,
                             db_index=True)
    failure = models.TextField(blank=True, help_text="Why it failed, expired or was cancelled")
    failed_value = models.CharField(max_length=64, blank=True,
                                    help_text="The value the failure is about, if one")
    last_error = models.TextField(blank=True, help_text="Why the last attempt did not finish")
    result = models.JSONField(default=dict, blank=True, help_text="What was read back")
    evidence = models.JSONField(default=dict, blank=True,
                                help_text="Raw request and reply frames or MQTT payloads")
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    transport = models.CharField(max_length=20, blank=True)
    gateway_name = models.CharField(max_length=64, blank=True)
    meter_clock = models.CharField(max_length=19, blank=True,
                                   help_text="The meter's clock (its local time) if read")
    owner = models.CharField(max_length=64, blank=True, help_text="Token of the running owner")
    lease_until = models.DateTimeField(null=True, blank=True)
    check_before_resend = models.BooleanField(
        default=False, help_text="An attempt may have reached the meter: a kind whose effect "
                                 "must not repeat reads the meter's state before sending again")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "not_before"]),
                   models.Index(fields=["meter", "created_at"])]
        constraints = [
            models.CheckConstraint(
                name="meterjob_final_has_finished_at",
                condition=~Q(state__in=[s.value for s in FINAL_STATES])
                | Q(finished_at__isnull=False),
                violation_error_message="a finished job needs its finish time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.meter_id} ({self.state})"

    @property
    def state_choice(self) -> JobState:
        return JobState(self.state)

    @property
    def is_pending(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)


class ReportedState(models.Model):
    """What a meter last reported for each named value, read back by a job, with its time."""

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, primary_key=True,
                                 related_name="reported_state")
    values = models.JSONField(default=dict,
                              help_text='name -> {"value": v, "time": ISO UTC, "job": id}')
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"reported state of {self.meter_id}"
