"""Reads on tariff plans: lists, versions, the time zone a plan counts in, hours and previews."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet

from meters.models import Label, Meter, Site
from tariffs import schedule
from tariffs.document import PlanDocument
from tariffs.models import TariffAssignment, TariffPlan, TariffPlanVersion


def plan_list() -> QuerySet[TariffPlan]:
    return TariffPlan.objects.annotate(assignment_count=Count("assignments")).order_by("name")


def plan_version(plan: TariffPlan, number: int | None = None) -> TariffPlanVersion:
    """Version ``number`` of ``plan`` (the latest if None); DoesNotExist if there is none."""
    return plan.versions.select_related("created_by").get(number=number or plan.latest_number)


def plan_assignments(plan: TariffPlan) -> QuerySet[TariffAssignment]:
    return plan.assignments.select_related("meter", "label").order_by("label__name",
                                                                      "meter__code")


def label_choices() -> QuerySet[Label]:
    return Label.objects.order_by("name")


MAX_CODES = 1000


def assignment_targets(*, codes: str, labels: list[str]) -> tuple[list[Meter], list[Label]]:
    """Meters from codes typed in (separated by spaces, commas or semicolons) and labels by
    name; ValidationError naming every code or label that does not exist."""
    if "\x00" in codes or any("\x00" in name for name in labels):
        # PostgreSQL cannot even compare a NUL byte: refuse it before any query sees it.
        raise ValidationError("meter codes and labels cannot contain a NUL character (0x00)")
    wanted = [c for c in re.split(r"[\s,;]+", codes.strip().upper()) if c]
    if len(wanted) > MAX_CODES:
        raise ValidationError(f"at most {MAX_CODES} meter codes at once")
    meters = list(Meter.objects.filter(code__in=wanted))
    found_labels = list(Label.objects.filter(name__in=labels[:MAX_CODES]))
    missing = sorted(set(wanted) - {m.code for m in meters})
    missing_labels = sorted(set(labels) - {label.name for label in found_labels})
    problems = [f"no meter {code}" for code in missing[:20]]
    problems += [f"no label {name!r}" for name in missing_labels[:20]]
    if problems:
        raise ValidationError(problems)
    return meters, found_labels


def plan_zone(document: PlanDocument, site: Site | None = None) -> zoneinfo.ZoneInfo:
    """The zone hours are counted in: the site's where a site is named (its meters' clocks
    run there), else the plan's own."""
    return zoneinfo.ZoneInfo(site.timezone if site else document.timezone)


def plan_month_hours(document: PlanDocument, year: int, month: int,
                     site: Site | None = None) -> dict[int, Decimal]:
    first, last = schedule.month_bounds(year, month)
    return schedule.hours_per_rate(document.program(), first, last, plan_zone(document, site))


def plan_year_hours(document: PlanDocument, year: int,
                    site: Site | None = None) -> dict[int, Decimal]:
    return schedule.hours_per_rate(document.program(), date(year, 1, 1), date(year, 12, 31),
                                   plan_zone(document, site))


def plan_day_preview(document: PlanDocument, day: date,
                     site: Site | None = None) -> list[dict[str, Any]]:
    """The rate at every hour of ``day`` with the rate's name and current price."""
    hours = schedule.rates_by_hour(document.program(), day, plan_zone(document, site))
    return [{"start": hour.start.isoformat(), "local_time": hour.start.strftime("%H:%M"),
             "rate": hour.rate, "rate_name": _rate_name(document, hour.rate),
             "price": _price(document, hour.rate, day)} for hour in hours]


def _rate_name(document: PlanDocument, rate: int) -> str:
    spec = document.rates.get(rate)
    return spec.name if spec else ""


def _price(document: PlanDocument, rate: int, day: date) -> str | None:
    spec = document.rates.get(rate)
    return str(spec.price_on(day)) if spec else None


def meter_desired_plan(meter: Meter) -> tuple[TariffPlan | None, str]:
    """The plan ``meter`` should run and why: its own assignment, else its labels' one plan.
    Labels naming different plans are a conflict: no plan, and the reason says which."""
    own = TariffAssignment.objects.filter(meter=meter).select_related("plan").first()
    if own is not None:
        return own.plan, "assigned to the meter"
    by_label = list(TariffAssignment.objects.filter(label__meters=meter)
                    .select_related("plan", "label").order_by("label__name"))
    plans = {a.plan for a in by_label}
    if len(plans) > 1:
        named = ", ".join(f"{a.label.name} -> {a.plan.name}" for a in by_label)  # type: ignore[union-attr]
        return None, f"labels name different plans ({named}); assign one to the meter"
    if by_label:
        return by_label[0].plan, f"through label {by_label[0].label.name}"  # type: ignore[union-attr]
    return None, "no plan assigned"


PROGRAM_KIND = "program_tou"


def plan_meters(plan: TariffPlan) -> list[Meter]:
    """The meters whose desired plan is ``plan`` (directly, or through a label without a
    conflicting label or a plan of their own)."""
    candidates = (Meter.objects.filter(tariff_assignment__plan=plan)
                  | Meter.objects.filter(labels__tariff_assignment__plan=plan)).distinct()
    return [m for m in candidates.select_related("site").order_by("code")
            if (desired := meter_desired_plan(m)[0]) is not None and desired.pk == plan.pk]

