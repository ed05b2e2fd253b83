"""States and priority classes of a meter job, with their labels and badge colours."""

from __future__ import annotations

from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"

    @property
    def colour(self) -> str:
        return STATE_COLOURS[self.value]


STATE_COLOURS = {"queued": "grey", "running": "blue", "verified": "green", "failed": "red",
                 "expired": "orange", "cancelled": "grey"}
PENDING_STATES = (JobState.QUEUED, JobState.RUNNING)
FINAL_STATES = (JobState.VERIFIED, JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED)


class Priority(models.IntegerChoices):
    """Lower runs first; the value is also the bus scheduler's rank (kpm37.scheduler)."""

    RELAY = 0, "Relay"
    OPERATOR_WRITE = 1, "Operator write"
    ROLLOUT_WRITE = 2, "Rollout write"
    BILLING_READ = 3, "Billing read"
    ROUTINE_POLL = 4, "Routine poll"
