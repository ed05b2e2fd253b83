"""Tariff pages: the plan list and the editor (live check, row actions, import, export, save).

Views stay thin: the form becomes a raw document (:mod:`tariffs.editor_form`), the document
parser checks it, services save it, :mod:`tariffs.editor_view` prepares what is drawn.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from meters.access import role_required
from tariffs import selectors, services
from tariffs.document import (
    MAX_BYTES,
    DocumentTooLarge,
    ParseResult,
    loads_bounded,
    parse_plan,
)
from tariffs.editor_form import STARTER, apply_action, form_to_raw
from tariffs.editor_view import build_fields, build_preview
from tariffs.exports import export_filename, export_text
from tariffs.models import TariffPlan, TariffPlanVersion
from tariffs.tou_views import may_program

VIEW = "tariffs.view_tariffplan"
EDITOR = "tariffs/plan_editor.html"


@role_required(permission=VIEW)
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tariffs/plan_list.html", {"plans": selectors.plan_list()})


@role_required(permission=VIEW)
def plan_editor(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A plan in the editor (a new one without ``pk``); POST saves it as a new version."""
    plan = get_object_or_404(TariffPlan, pk=pk) if pk else None
    if request.method == "POST":
        return _save(request, plan)
    version = _version_of(plan, request.GET.get("version", "")) if plan else None
    raw = dict(version.document) if version else dict(STARTER)
    return _editor(request, plan, raw, parse_plan(raw), status=200, version=version)


def _save(request: HttpRequest, plan: TariffPlan | None) -> HttpResponse:
    perm = "tariffs.change_tariffplan" if plan else "tariffs.add_tariffplan"
    if not request.user.has_perm(perm):
        raise PermissionDenied("your role may not edit tariff plans")
    raw = form_to_raw(request.POST)
    result = parse_plan(raw)
    if result.document is not None:
        try:
            saved = (services.tariff_plan_update(plan=plan, document=result.document,
                                                 user=request.user) if plan else
                     services.tariff_plan_create(document=result.document, user=request.user))
        except ValidationError as exc:
            result = ParseResult(None, [(k, m) for k, ms in exc.message_dict.items()
                                        for m in ms], result.sets)
        else:
            messages.success(request, f"Saved {saved.plan.name} as version {saved.number}.")
            return redirect("tariffs:plan-editor", pk=saved.plan.pk)
    return _editor(request, plan, raw, result, status=400)


def _editor(request: HttpRequest, plan: TariffPlan | None, raw: dict[str, Any],
            result: ParseResult, status: int, version: Any = None) -> HttpResponse:
    year, month = _preview_period(request)
    context = {"plan": plan, "version": version, "fields": build_fields(raw, result.error_dict),
               "preview": build_preview(result, year, month),
               "can_edit": request.user.has_perm("tariffs.change_tariffplan" if plan
                                                 else "tariffs.add_tariffplan"),
               "versions": plan.versions.select_related("created_by") if plan else [],
               "assignments": selectors.plan_assignments(plan) if plan else [],
               "labels": selectors.label_choices(), "can_program": may_program(request.user)}
    return render(request, EDITOR, context, status=status)


@role_required(permission=VIEW)
@require_POST
def plan_check(request: HttpRequest) -> HttpResponse:
    """Live validation: the preview (errors, bars, calendar, hours) of the form as typed."""
    year, month = _preview_period(request)
    result = parse_plan(form_to_raw(request.POST))
    return render(request, f"{EDITOR}#plan-preview",
                  {"preview": build_preview(result, year, month)})


@role_required(permission=VIEW)
@require_POST
def plan_rows(request: HttpRequest) -> HttpResponse:
    """A row action (add or remove a period, zone, day table or price; copy a set)."""
    raw = apply_action(form_to_raw(request.POST), request.POST.get("action", ""))
    return _fields_and_preview(request, raw)


@role_required(permission=VIEW)
@require_POST
def plan_import(request: HttpRequest) -> HttpResponse:
    """A JSON file into the editor (saved only when the user saves)."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DocumentTooLarge("choose a JSON file first")
        raw = loads_bounded(upload.read(MAX_BYTES + 1))
        if not isinstance(raw, dict):
            raise DocumentTooLarge("a plan file holds one JSON object")
    except DocumentTooLarge as exc:
        # 200: htmx swaps only successful answers, and this one is the message to show.
        return render(request, "tariffs/import_error.html", {"reason": str(exc)})
    return _fields_and_preview(request, raw, "tariffs/import_done.html")


def _fields_and_preview(request: HttpRequest, raw: dict[str, Any],
                        template: str = f"{EDITOR}#plan-fields") -> HttpResponse:
    year, month = _preview_period(request)
    result = parse_plan(raw)
    context = {"fields": build_fields(raw, result.error_dict), "oob": True,
               "preview": build_preview(result, year, month), "name": raw.get("name")}
    return render(request, template, context)


@role_required(permission=VIEW)
def plan_export(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TariffPlan, pk=pk)
    version = _version_of(plan, request.GET.get("version", ""))
    response = HttpResponse(export_text(version), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(version)}"'
    return response


@role_required(permission="tariffs.change_tariffplan")
@require_POST
def plan_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign the plan to meters (by code) and labels, or remove one assignment."""
    plan = get_object_or_404(TariffPlan, pk=pk)
    try:
        meters, labels = selectors.assignment_targets(
            codes=request.POST.get("meter_codes", ""), labels=request.POST.getlist("labels"))
    except ValidationError as exc:
        messages.error(request, "Nothing assigned: " + "; ".join(exc.messages))
        return redirect("tariffs:plan-editor", pk=pk)
    if request.POST.get("unassign"):
        removed = services.tariff_plan_unassign(meters=meters, labels=labels)
        messages.success(request, f"Removed {removed} assignment{'s' if removed != 1 else ''}.")
    else:
        count = services.tariff_plan_assign(plan=plan, meters=meters, labels=labels,
                                            user=request.user)
        messages.success(request, f"{plan.name} assigned to {count} meter(s) and label(s).")
    return redirect("tariffs:plan-editor", pk=pk)


@role_required(permission="tariffs.delete_tariffplan")
@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TariffPlan, pk=pk)
    try:
        services.tariff_plan_delete(plan=plan)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("tariffs:plan-editor", pk=pk)
    messages.success(request, f"Deleted {plan.name}.")
    return redirect("tariffs:plan-list")


def _version_of(plan: TariffPlan, number: str) -> TariffPlanVersion:
    """Version ``number`` of ``plan`` if it has one, else its latest."""
    wanted = int(number) if number.isascii() and number.isdigit() and len(number) < 9 else 0
    return plan.versions.filter(number=wanted).first() or plan.latest


def _preview_period(request: HttpRequest) -> tuple[int, int]:
    """The month the editor counts hours for (``preview_month`` YYYY-MM), default this one."""
    data = request.POST if request.method == "POST" else request.GET
    match = re.fullmatch(r"(\d{4})-(\d{2})", data.get("preview_month", ""))
    if match and 2000 <= int(match[1]) <= 2099 and 1 <= int(match[2]) <= 12:
        return int(match[1]), int(match[2])
    today: date = timezone.localdate()
    return today.year, today.month
