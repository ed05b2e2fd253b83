"""The meter page's jobs panel: the meter's jobs live (polled while any is pending) and the form
that queues a read or a write (operators and admins only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from meters import selectors as meter_selectors
from meters.access import role_required
from meters.jobs import selectors, services
from meters.jobs.api.views import SUBMIT_PERMISSION
from meters.jobs.forms import MeterJobForm
from meters.models import Meter

POLL_S = 2


def _panel(request: HttpRequest, meter: Meter, form: MeterJobForm | None = None,
           status: int = 200) -> HttpResponse:
    jobs = selectors.jobs_of_meter(meter_id=meter.pk)
    context = {"meter": meter, "jobs": jobs, "poll_s": POLL_S,
               "pending": any(job.is_pending for job in jobs),
               "may_submit": request.user.has_perm(SUBMIT_PERMISSION),
               "form": form or MeterJobForm(initial={"action": "read"})}
    return render(request, "jobs/meter_jobs.html", context, status=status)


@role_required()
@require_http_methods(["GET", "POST"])
def meter_jobs(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the panel (it polls itself while a job is pending). POST: queue a read or write."""
    meter = get_object_or_404(meter_selectors.meters_visible_to(request.user), pk=pk)
    if request.method == "GET":
        return _panel(request, meter)
    if not request.user.has_perm(SUBMIT_PERMISSION):
        raise PermissionDenied("your role may not act on meters (operators and admins may)")
    form = MeterJobForm(request.POST)
    if not form.is_valid():
        return _panel(request, meter, form, status=400)
    kind, payload = form.kind_and_payload()
    try:
        services.job_submit(meter=meter, kind=kind, payload=payload, requested_by=request.user,
                            reason=form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            form.add_error(None, f"{field}: {' '.join(messages)}")
        return _panel(request, meter, form, status=400)
    return _panel(request, meter)
