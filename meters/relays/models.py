"""A group relay command: one action on one output of many meters, with the two-person rule.

Each meter's command is a ``relay`` meter job; the group keeps who asked, who approved, the
meters as they were chosen, and the rate at which the jobs go out.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from meters.models import Meter
from meters.relays.choices import Action, GroupState, Output


class RelayGroupCommand(models.Model):
    """Close, open or pulse output N of a set of meters chosen by label or by code."""

    output = models.PositiveSmallIntegerField(choices=Output.choices)
    action = models.CharField(max_length=5, choices=Action.choices)
    reason = models.TextField()
    selection = models.CharField(max_length=200, help_text="How the meters were chosen")
    meters = models.ManyToManyField(Meter, related_name="+")
    meter_count = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=GroupState.choices, db_index=True)
    needs_approval = models.BooleanField(default=False)
    rate_per_minute = models.PositiveIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} output {self.output} of {self.meter_count} meters"

    @property
    def action_words(self) -> str:
        return f"{self.action} output {self.output}"
