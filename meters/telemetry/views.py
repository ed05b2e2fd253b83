"""Telemetry pages: live board, a meter's live panel and history chart, dead letters and
unregistered meters (with adoption). Views stay thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from kpm37.quantities import QUANTITIES
from meters.access import role_required
from meters.htmx import template_for
from meters.local_time import reader_of
from meters.models import Site, Tenant
from meters.selectors import meters_visible_to
from meters.telemetry import charts, selectors, services
from meters.telemetry.baselines import counter_baseline_accept
from meters.telemetry.exports import history_csv_lines
from meters.telemetry.filtersets import DeadLetterFilterSet, ReadingFilterSet
from meters.telemetry.forms import AdoptForm
from meters.telemetry.models import UnregisteredMeter

BOARD_REFRESH_S = 5
CHART_POINTS = 500
DEFAULT_CHART = ["voltage_a", "voltage_b", "voltage_c"]


@role_required()
@vary_on_headers("HX-Request")
def board(request: HttpRequest) -> HttpResponse:
    """Fleet counts by status, open alarms by severity, meters per gateway; polled by HTMX."""
    context = {"board": selectors.fleet_board(user=request.user), "refresh_s": BOARD_REFRESH_S}
    return render(request, template_for(request, "telemetry/board.html", "board"), context)


@role_required()
def energy(request: HttpRequest) -> HttpResponse:
    """Each visible meter's latest import and export energy, grouped by tenant (the billing
    role's landing page until billing exists)."""
    page = Paginator(selectors.energy_list(user=request.user), 50).get_page(
        request.GET.get("page"))
    return render(request, "telemetry/energy.html", {
        "page": page, "rows": selectors.energy_of(list(page.object_list))})


@role_required()
def live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live panel fragment of a meter page: every latest quantity with its time."""
    meter = get_object_or_404(meters_visible_to(request.user), pk=pk)
    return render(request, "telemetry/live.html", {"meter": meter,
                                                   "groups": selectors.live_panel(meter)})


@role_required()
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """A meter's history on a time axis in the reader's zone (?quantity=&since=&until=), or
    its energy per hour or day per rate as bars (?chart=energy&bucket=day)."""
    meter = get_object_or_404(meters_visible_to(request.user).select_related("site"), pk=pk)
    zone = reader_of(request).zone_for(meter)
    query = request.GET.copy()
    energy = query.get("chart") == "energy"
    if energy:  # bars read the per-rate counters, whatever quantities were picked
        query.setlist("quantity", charts.RATE_COUNTERS)
    elif not query.getlist("quantity"):
        query.setlist("quantity", DEFAULT_CHART)
    with timezone.override(zone):  # since/until are typed in the zone the page shows
        filterset = ReadingFilterSet(query, queryset=selectors.reading_list(meter=meter))
        valid = filterset.is_valid()
    chosen = [n for n in query.getlist("quantity") if n in QUANTITIES]
    bucket = query.get("bucket") if query.get("bucket") in charts.BUCKETS else "day"
    rows = list(filterset.qs[:CHART_POINTS]) if valid and not energy else []
    return render(request, "telemetry/history.html", {
        "meter": meter, "filterset": filterset, "limit": CHART_POINTS, "points": len(rows),
        "groups": charts.quantity_groups(), "chosen": chosen, "energy": energy,
        "bucket": bucket, "zone": getattr(zone, "key", "UTC"),
        "chart": (charts.energy_bars(filterset.qs, bucket, zone) if valid and energy
                  else {"series": charts.line_series(rows, chosen, meter.poll_interval_s)})})


@role_required()
def history_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The history page's readings as CSV (same ?quantity=&since=&until=), times as shown."""
    meter = get_object_or_404(meters_visible_to(request.user).select_related("site"), pk=pk)
    zone = reader_of(request).zone_for(meter)
    query = request.GET.copy()
    if not query.getlist("quantity"):
        query.setlist("quantity", DEFAULT_CHART)
    with timezone.override(zone):
        filterset = ReadingFilterSet(query, queryset=selectors.reading_list(meter=meter))
        if not filterset.is_valid():
            return HttpResponse("; ".join(f"{f}: {' '.join(e)}" for f, e in
                                          filterset.errors.items()), status=400,
                                content_type="text/plain; charset=utf-8")
    chosen = [n for n in query.getlist("quantity") if n in QUANTITIES]
    response = StreamingHttpResponse(history_csv_lines(filterset.qs, chosen, zone),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{meter.code}-history.csv"'
    return response


@role_required(fleet_wide=True)
def dead_letters(request: HttpRequest) -> HttpResponse:
    """Messages ingest refused, with reason and raw payload, counted per kind."""
    filterset = DeadLetterFilterSet(request.GET, queryset=selectors.dead_letter_list())
    letters = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(letters, 50).get_page(request.GET.get("page"))
    zones = selectors.site_zones_by_code({d.meter_code for d in page if d.meter_code})
    for letter in page:
        letter.zone = zones.get(letter.meter_code)
    return render(request, "telemetry/dead_letters.html", {
        "filterset": filterset, "page": page, "cards": selectors.dead_letter_cards()})


@role_required(fleet_wide=True)
def unregistered(request: HttpRequest) -> HttpResponse:
    """Codes heard from but not in the inventory; operators adopt them from here."""
    return render(request, "telemetry/unregistered.html", {
        "rows": selectors.unregistered_list(), "sites": Site.objects.all(),
        "tenants": Tenant.objects.all(),
        "can_adopt": request.user.has_perm("meters.add_meter")})


@require_POST
@role_required(fleet_wide=True, permission="meters.add_meter")
def adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the MQTT meter for an unregistered code (the page's adopt form)."""
    row = get_object_or_404(UnregisteredMeter, pk=pk, adopted_meter__isnull=True)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{row.code}: " + "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
        return redirect("telemetry:unregistered")
    try:
        meter = services.unregistered_adopt(unregistered=row, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, f"{row.code}: {'; '.join(exc.messages)}")
        return redirect("telemetry:unregistered")
    messages.success(request, f"{meter.code} adopted as an MQTT meter")
    return redirect("telemetry:unregistered")


@require_POST
@role_required(fleet_wide=True, permission="telemetry.add_counterbaseline")
def baseline_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept a meter's reset or exchange (the meter page's form): a new counter baseline."""
    meter = get_object_or_404(meters_visible_to(request.user), pk=pk)
    try:
        baseline = counter_baseline_accept(meter=meter, user=request.user,
                                           reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()))
    else:
        messages.success(request, f"new baseline accepted; {baseline.readings_restored} "
                                  f"refused reading{pluralize(baseline.readings_restored)} stored")
    return redirect("meters:meter-detail", pk=meter.pk)
