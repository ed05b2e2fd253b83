"""TOU panels for the meter page and the fleet page (loaded through meters' panel hook), and
"Program now": programming a meter with its plan, as a meter job."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from meters import selectors as meter_selectors
from meters.access import role_required
from meters.roles import ADMIN, OPERATOR, has_role
from tariffs import services
from tariffs.models import TariffPlan
from tariffs.tou_status import fleet_tou_counts, meter_tou_status

VIEW = "tariffs.view_tariffplan"


def may_program(user: object) -> bool:
    """Programming writes to meters: operators and admins only (as every meter write)."""
    return has_role(user, ADMIN, OPERATOR)


@role_required(permission=VIEW)
def meter_tou(request: HttpRequest, pk: int) -> HttpResponse:
    """The meter's plan and, per set, in sync / drifted / pending (when) / failed (why);
    POST programs the meter with its plan now."""
    meter = get_object_or_404(meter_selectors.meter_list(user=request.user), pk=pk)
    error = ""
    if request.method == "POST":
        if not may_program(request.user):
            raise PermissionDenied("your role may not program meters")
        try:
            services.tariff_program_meter(meter=meter, user=request.user,
                                          reason="Program now (meter page)")
        except ValidationError as exc:
            error = "; ".join(exc.messages)
    return render(request, "tariffs/meter_tou.html",
                  {"meter": meter, "status": meter_tou_status(meter), "error": error,
                   "can_program": may_program(request.user)})


@role_required(permission=VIEW)
def fleet_tou(request: HttpRequest) -> HttpResponse:
    """Counts of meters whose TOU sets are in sync, drifted, pending, failed or unknown."""
    counts = fleet_tou_counts(meter_selectors.meter_list(user=request.user))
    return render(request, "tariffs/fleet_tou.html", {"tou": counts})


@role_required(permission=VIEW)
def plan_program(request: HttpRequest, pk: int) -> HttpResponse:
    """Program every meter whose desired plan this is (POST)."""
    plan = get_object_or_404(TariffPlan, pk=pk)
    if request.method != "POST":
        return redirect("tariffs:plan-editor", pk=pk)
    if not may_program(request.user):
        raise PermissionDenied("your role may not program meters")
    jobs = services.tariff_program_plan(plan=plan, user=request.user)
    messages.success(request, f"Programming {len(jobs)} meter(s) with {plan.name} "
                              f"v{plan.latest_number}: see each meter's jobs.")
    return redirect("tariffs:plan-editor", pk=pk)
