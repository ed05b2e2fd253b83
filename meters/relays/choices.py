"""Relay outputs, actions, and the states of a command and of a group command."""

from __future__ import annotations

from django.db import models


class Output(models.IntegerChoices):
    DO1 = 1, "Output 1"
    DO2 = 2, "Output 2"


class Action(models.TextChoices):
    CLOSE = "close", "Close (supply on)"
    OPEN = "open", "Open (supply off)"
    PULSE = "pulse", "Pulse"


class CommandState(models.TextChoices):
    """A relay command as the operator sees it (its job's state, in relay words)."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    CONFIRMED = "confirmed", "Confirmed by read-back"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# Job state -> command state.
FROM_JOB_STATE = {"queued": CommandState.QUEUED, "running": CommandState.SENT,
                  "verified": CommandState.CONFIRMED, "failed": CommandState.FAILED,
                  "expired": CommandState.EXPIRED, "cancelled": CommandState.CANCELLED}


class GroupState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting", "Awaiting a second operator's approval"
    DISPATCHED = "dispatched", "Sent out as relay commands"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
