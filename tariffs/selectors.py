"""Reads on tariff plans: lists, versions, the time zone a plan counts in, hours and previews."""

from __future__ import annotations

import zoneinfo
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from meters.models import Site
from tariffs import schedule
from tariffs.document import PlanDocument
from tariffs.models import TariffPlan, TariffPlanVersion


def plan_list() -> QuerySet[TariffPlan]:
    return TariffPlan.objects.annotate(assignment_count=Count("assignments")).order_by("name")


def plan_version(plan: TariffPlan, number: int | None = None) -> TariffPlanVersion:
    """Version ``number`` of ``plan`` (the latest if None); DoesNotExist if there is none."""
    return plan.versions.select_related("created_by").get(number=number or plan.latest_number)


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
