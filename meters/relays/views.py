"""Relay pages: a meter's relay panel (HTMX, live) and group commands with approval.

Every command is confirmed on a second step that names the meter(s) and the action before it
is queued; nothing here switches anything itself: the services queue relay jobs.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from meters.access import role_required
from meters.relays import commands, conf, group_services, selectors
from meters.relays.forms import RelayCommandForm, RelayGroupForm
from meters.relays.models import RelayGroupCommand
from meters.relays.rules import may_command_relays, require_commander
from meters.selectors import meters_visible_to

PENDING_REFRESH_S, IDLE_REFRESH_S = 2, 30
PREVIEW_METERS = 50


def _panel(request: HttpRequest, meter: Any, **extra: Any) -> HttpResponse:
    history = selectors.relay_history(meter)
    pending = selectors.has_pending(history) or selectors.relay_read_pending(meter)
    return render(request, "relays/meter_relays.html", {
        "meter": meter, "outputs": selectors.output_states(meter), "history": history,
        "can_command": may_command_relays(request.user), "form": RelayCommandForm(),
        "refresh_s": PENDING_REFRESH_S if pending else IDLE_REFRESH_S, **extra})


@role_required()
def meter_relays(request: HttpRequest, pk: int) -> HttpResponse:
    """The relay panel of a meter page: outputs, modes, commands (polled while one is pending)."""
    return _panel(request, get_object_or_404(meters_visible_to(request.user), pk=pk))


@require_POST
@role_required()
def meter_relay_command(request: HttpRequest, pk: int) -> HttpResponse:
    """First POST: the confirmation naming meter and action; with ``confirmed``: queue it."""
    meter = get_object_or_404(meters_visible_to(request.user), pk=pk)
    form = RelayCommandForm(request.POST)
    if not may_command_relays(request.user):
        commands.relay_command(meter=meter, user=request.user, output=request.POST.get(
            "output"), action=request.POST.get("action"), reason="")  # refused and recorded
    if not form.is_valid():
        return _panel(request, meter, form=form)
    if request.POST.get("confirmed") != "yes":
        return _panel(request, meter, form=form, confirm=form.cleaned_data,
                      command_key=uuid.uuid4().hex)
    # One key per confirmation: a second click on the same "Yes" finds the same job.
    key = request.POST.get("command_key", "")
    key = f"relay-page-{request.user.pk}-{key}" if re.fullmatch(r"[0-9a-f]{32}", key) else ""
    try:
        commands.relay_command(meter=meter, user=request.user, idempotency_key=key,
                               **form.cleaned_data)
    except ValidationError as exc:
        return _panel(request, meter, form=form, refused="; ".join(exc.messages))
    return _panel(request, meter, queued=form.cleaned_data)


@require_POST
@role_required()
def meter_relay_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a read of the outputs and their modes; the panel polls until it is back."""
    meter = get_object_or_404(meters_visible_to(request.user), pk=pk)
    commands.relay_state_read(meter=meter, user=request.user)
    return _panel(request, meter, reading=True)


@role_required()
def group_list(request: HttpRequest) -> HttpResponse:
    """Group commands, newest first, and the form for a new one (operators and admins)."""
    require_commander(request.user)
    page = Paginator(selectors.group_list(), 50).get_page(request.GET.get("page"))
    return render(request, "relays/group_list.html", {"page": page, "form": RelayGroupForm()})


@require_POST
@role_required()
def group_new(request: HttpRequest) -> HttpResponse:
    """Preview (the meters, the count, whether approval is needed), then request."""
    require_commander(request.user)
    form = RelayGroupForm(request.POST)
    context: dict[str, Any] = {"form": form, "page": None}
    if form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("output", "action", "reason", "label")}
        try:
            if request.POST.get("confirmed") == "yes":
                group = group_services.relay_group_request(
                    user=request.user, codes=form.code_list(),
                    confirm_count=form.cleaned_data["confirm_count"], **data)
                messages.success(request, f"group command {group.pk}: {group}")
                return redirect("relays:group-detail", pk=group.pk)
            meters, selection = group_services.group_meters(
                user=request.user, label=data["label"], codes=form.code_list())
            count = meters.count()
            context.update(preview=data, selection=selection, count=count,
                           meters=list(meters[:PREVIEW_METERS]),
                           needs_count=count > conf.get(
                               "RELAY_GROUP_APPROVAL_ABOVE"))
        except ValidationError as exc:
            context["errors"] = exc.message_dict if hasattr(exc, "error_dict") else {
                "": exc.messages}
    return render(request, "relays/group_list.html", context)


@role_required()
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A group command: who asked, who decided, and each meter's command as it goes."""
    require_commander(request.user)
    group = get_object_or_404(RelayGroupCommand, pk=pk)
    jobs = commands.group_jobs(group)
    return render(request, "relays/group_detail.html", {
        "group": group, "jobs": jobs, "pending": selectors.has_pending(jobs),
        "own": group.requested_by_id == request.user.pk, "refresh_s": PENDING_REFRESH_S})


@require_POST
@role_required()
def group_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    group = get_object_or_404(RelayGroupCommand, pk=pk)
    decide = (group_services.relay_group_approve if decision == "approve"
              else group_services.relay_group_reject)
    try:
        decide(group=group, user=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("relays:group-detail", pk=pk)
