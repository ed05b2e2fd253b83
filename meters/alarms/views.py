"""The alarms page: filter by meter code, state, severity and kind; acknowledge and clear."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from meters.access import role_required
from meters.alarms import selectors, services
from meters.alarms.filtersets import AlarmFilterSet
from meters.alarms.forms import AcknowledgeForm
from meters.htmx import template_for
from meters.roles import ADMIN, OPERATOR, has_role

REFRESH_S = 10


@role_required(permission="alarms.view_alarm")
@vary_on_headers("HX-Request")
def alarm_list(request: HttpRequest) -> HttpResponse:
    """Alarms on visible meters, newest first; the table refreshes while the tab is visible."""
    filterset = AlarmFilterSet(request.GET, queryset=selectors.alarm_list(user=request.user))
    alarms = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(alarms, 50).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "refresh_s": REFRESH_S,
               "can_act": has_role(request.user, ADMIN, OPERATOR),
               "query": request.GET.urlencode()}
    return render(request, template_for(request, "alarms/alarm_list.html", "alarm-table"),
                  context)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to ``next`` when it is a page of this site, else to the alarms list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("alarms:list")


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    alarm = get_object_or_404(selectors.alarm_list(user=request.user), pk=pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{field}: {' '.join(errors)}"
                                          for field, errors in form.errors.items()))
        return _back(request)
    try:
        if action == "acknowledge":
            services.alarm_acknowledge(alarm=alarm, user=request.user,
                                       comment=form.cleaned_data["comment"])
        else:
            services.alarm_clear(alarm=alarm, user=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied:
        raise
    return _back(request)


@require_POST
@role_required(permission="alarms.change_alarm")
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an alarm (operators and admins)."""
    return _act(request, pk, "acknowledge")


@require_POST
@role_required(permission="alarms.change_alarm")
def clear(request: HttpRequest, pk: int) -> HttpResponse:
    """Clear an alarm by hand (operators and admins)."""
    return _act(request, pk, "clear")
