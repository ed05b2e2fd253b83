"""Tariff plans, their immutable versions, and which meters (or labels) use which plan."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from tariffs.document import PlanDocument, parse_plan


class TariffPlan(models.Model):
    """A declared time-of-use tariff. What it says lives in its versions: an edit adds a
    version and never changes one, so a bill made with version 3 can be made again."""

    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(max_length=3)
    latest_number = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> TariffPlanVersion:
        return self.versions.get(number=self.latest_number)


class TariffPlanVersion(models.Model):
    """One version of a plan: the canonical JSON document, who made it and when."""

    plan = models.ForeignKey(TariffPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"],
                                               name="tariff_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"

    def parsed(self) -> PlanDocument:
        """The stored document as checked values (it was valid when stored)."""
        result = parse_plan(self.document)
        if result.document is None:
            raise ValueError(f"{self} no longer parses: {result.errors[:3]}")
        return result.document


class TariffAssignment(models.Model):
    """A plan assigned to one meter, or to every meter with a label. A meter's own
    assignment wins over its labels'."""

    plan = models.ForeignKey(TariffPlan, on_delete=models.PROTECT, related_name="assignments")
    meter = models.OneToOneField("meters.Meter", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="tariff_assignment")
    label = models.OneToOneField("meters.Label", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="tariff_assignment")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["plan", "id"]
        constraints = [models.CheckConstraint(
            name="tariff_assignment_meter_xor_label",
            condition=Q(meter__isnull=False, label__isnull=True)
            | Q(meter__isnull=True, label__isnull=False),
            violation_error_message="an assignment names either one meter or one label")]

    def __str__(self) -> str:
        target: Any = self.meter or f"label {self.label}"
        return f"{self.plan} -> {target}"
