"""Fleet, meter and gateway pages. Views stay thin: selectors read, templates show."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.vary import vary_on_headers

from meters import selectors
from meters.access import role_required
from meters.choices import MeterStatus
from meters.filtersets import GatewayFilterSet, MeterFilterSet
from meters.htmx import template_for, wants_partial
from meters.models import Meter
from meters.panels import fleet_panels, meter_panels
from meters.roles import ADMIN, OPERATOR, has_role
from meters.telemetry.selectors import gateway_poll_health, meter_problems

PAGE_SIZE = 50
COUNTS_REFRESH_S = 5


def _filtered_meters(request: HttpRequest) -> MeterFilterSet:
    return MeterFilterSet(request.GET, queryset=selectors.meter_list(user=request.user),
                          request=request)


def _counts_context(meters: QuerySet[Meter], query: str) -> dict[str, Any]:
    counts = selectors.meter_status_counts(meters.order_by())
    cards = [{"status": status.value, "count": counts[status.value]} for status in MeterStatus]
    return {"counts": counts, "status_cards": cards, "query": query,
            "refresh_s": COUNTS_REFRESH_S}


@role_required()
@vary_on_headers("HX-Request")
def fleet(request: HttpRequest) -> HttpResponse:
    """All visible meters: search, filters, sorting, pagination and live status counts."""
    filterset = _filtered_meters(request)
    meters = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(meters, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filterset": filterset, "page": page, "oob_counts": wants_partial(request),
               "panels": fleet_panels(request.user),
               **_counts_context(meters, query.urlencode())}
    return render(request, template_for(request, "meters/fleet.html", "meter-table"), context)


@role_required()
def status_counts(request: HttpRequest) -> HttpResponse:
    """The status counts fragment the fleet page polls."""
    filterset = _filtered_meters(request)
    meters = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    return render(request, "meters/fleet.html#status-counts",
                  _counts_context(meters, request.GET.urlencode()))


@role_required()
def meter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One meter: identity, wiring, ownership, ratios, status, and its live readings section."""
    meter = get_object_or_404(selectors.meter_list(user=request.user), pk=pk)
    return render(request, "meters/meter_detail.html", {
        "meter": meter, "panels": meter_panels(request.user, meter),
        "problems": meter_problems(meter),
        "can_accept": has_role(request.user, ADMIN, OPERATOR)})


@role_required(fleet_wide=True)
def gateway_list(request: HttpRequest) -> HttpResponse:
    """Every bus with its meter count."""
    filterset = GatewayFilterSet(request.GET,
                                 queryset=selectors.gateway_list(user=request.user))
    gateways = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(gateways, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "meters/gateway_list.html", {"filterset": filterset, "page": page})


@role_required(fleet_wide=True)
def gateway_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One gateway's settings and the meters on its bus, by address."""
    gateway = get_object_or_404(selectors.gateway_list(user=request.user), pk=pk)
    meters = list(selectors.meter_list(user=request.user).filter(gateway=gateway)
                  .order_by("address"))
    health = gateway_poll_health(gateway.pk)
    for meter in meters:
        meter.poll = health["states"].get(meter.pk)
    return render(request, "meters/gateway_detail.html", {"gateway": gateway, "meters": meters,
                                                          "runs": health["runs"]})
