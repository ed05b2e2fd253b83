"""Writes on tariff plans: create, edit as a new version, delete when unused, assign."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from meters.audit.choices import Result
from meters.audit.services import audit_record
from tariffs.document import PlanDocument
from tariffs.models import TariffAssignment, TariffPlan, TariffPlanVersion

PROGRAM_KIND = "program_tou"


@transaction.atomic
def tariff_plan_create(*, document: PlanDocument, user: Any = None) -> TariffPlanVersion:
    """A new plan whose version 1 is ``document``."""
    _check_name_free(document.name)
    plan = TariffPlan.objects.create(name=document.name, currency=document.currency,
                                     latest_number=1)
    version = TariffPlanVersion.objects.create(plan=plan, number=1, document=document.to_json(),
                                               created_by=_user(user))
    audit_record(kind="tariff.create", obj=plan, actor=_user(user),
                 after={"version": 1, "document": version.document})
    return version


@transaction.atomic
def tariff_plan_update(*, plan: TariffPlan, document: PlanDocument,
                       user: Any = None) -> TariffPlanVersion:
    """``document`` as the plan's next version; an unchanged document keeps the latest one."""
    plan = TariffPlan.objects.select_for_update().get(pk=plan.pk)
    latest = plan.latest
    content = document.to_json()
    if latest.document == content:
        return latest
    _check_name_free(document.name, exclude=plan.pk)
    plan.name, plan.currency = document.name, document.currency
    plan.latest_number += 1
    plan.save(update_fields=["name", "currency", "latest_number", "updated_at"])
    version = TariffPlanVersion.objects.create(plan=plan, number=plan.latest_number,
                                               document=content, created_by=_user(user))
    audit_record(kind="tariff.update", obj=plan, actor=_user(user),
                 before={"version": latest.number, "document": latest.document},
                 after={"version": version.number, "document": content})
    return version


@transaction.atomic
def tariff_plan_delete(*, plan: TariffPlan) -> None:
    """Delete a plan no meter, label or bill uses; otherwise say what uses it."""
    assigned = plan.assignments.count()
    if assigned:
        raise ValidationError(f"plan {plan.name!r} is still assigned ({assigned} "
                              f"assignment{'s' if assigned != 1 else ''}); unassign it first")
    audit_record(kind="tariff.delete", obj=plan, before={"version": plan.latest_number,
                                                          "document": plan.latest.document})
    try:
        plan.delete()
    except ProtectedError as exc:
        raise ValidationError(f"plan {plan.name!r} is still used by "
                              f"{len(exc.protected_objects)} records (bills keep the version "
                              "they were made with)") from exc


@transaction.atomic
def tariff_plan_assign(*, plan: TariffPlan, meters: list[Any], labels: list[Any],
                       user: Any = None) -> int:
    """Make ``plan`` the desired tariff of ``meters`` and of every meter with ``labels``
    (replacing what they had); returns the number of assignments written."""
    for meter in meters:
        TariffAssignment.objects.update_or_create(
            meter=meter, defaults={"plan": plan, "label": None, "created_by": _user(user)})
    for label in labels:
        TariffAssignment.objects.update_or_create(
            label=label, defaults={"plan": plan, "meter": None, "created_by": _user(user)})
    if meters or labels:
        audit_record(kind="tariff.assign", obj=plan, actor=_user(user), after={
            "meters": [m.code for m in meters], "labels": [label.name for label in labels]})
    return len(meters) + len(labels)


@transaction.atomic
def tariff_plan_unassign(*, meters: list[Any], labels: list[Any]) -> int:
    """Remove the direct assignments of ``meters`` and of ``labels``; returns how many."""
    gone = list(TariffAssignment.objects.filter(meter__in=meters).select_related("plan", "meter"))
    gone += TariffAssignment.objects.filter(label__in=labels).select_related("plan", "label")
    for assignment in gone:
        target = assignment.meter.code if assignment.meter else f"label {assignment.label}"
        audit_record(kind="tariff.unassign", obj=assignment.plan, meter=assignment.meter,
                     before={"assigned_to": target})
        assignment.delete()
    return len(gone)


@transaction.atomic
def tariff_program_meter(*, meter: Any, user: Any = None, reason: str = "") -> Any:
    """Queue the programming of ``meter`` with the latest version of its desired plan, as a
    meter job; one already queued or running for that version is returned instead."""
    from meters.jobs.choices import JobState
    from meters.jobs.models import MeterJob
    from meters.jobs.services import job_cancel, job_submit
    from tariffs.selectors import meter_desired_plan

    plan, why = meter_desired_plan(meter)
    if plan is None:
        raise ValidationError({"plan": f"{meter.code}: {why}"})
    version = plan.latest
    pending = (MeterJob.objects.select_for_update().filter(
        meter=meter, kind=PROGRAM_KIND, state__in=[JobState.QUEUED, JobState.RUNNING])
        .order_by("-id").first())
    if pending is not None and pending.payload.get("version_id") == version.pk:
        return pending
    if pending is not None and pending.state == JobState.QUEUED:
        job_cancel(job=pending, by=user, reason=f"superseded by {plan.name} v{version.number}")
    job = job_submit(meter=meter, kind=PROGRAM_KIND,
                     payload={"plan": version.document, "version": version.number,
                              "version_id": version.pk},
                     requested_by=user, reason=reason or f"TOU plan {plan.name} v{version.number}")
    audit_record(kind="tariff.program", obj=plan, meter=meter, actor=_user(user),
                 result=Result.ACCEPTED, after={"version": version.number, "job": job.pk},
                 detail=f"meter job {job.pk} queued")
    return job


def tariff_program_plan(*, plan: TariffPlan, user: Any = None) -> list[Any]:
    """Program every meter whose desired plan is ``plan`` (one job each, queued on commit)."""
    from tariffs.selectors import plan_meters

    return [tariff_program_meter(meter=meter, user=user) for meter in plan_meters(plan)]


def _check_name_free(name: str, exclude: int | None = None) -> None:
    taken = TariffPlan.objects.filter(name=name).exclude(pk=exclude).exists()
    if taken:
        raise ValidationError({"name": f"a plan called {name!r} exists already"})


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None
