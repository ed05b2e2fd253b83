"""The audit page: filter by meter, user, kind and time; export what the filter shows as CSV."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from meters.access import View, role_required
from meters.audit.export import csv_response
from meters.audit.filtersets import AuditFilterSet
from meters.audit.selectors import audit_list, may_read_audit
from meters.htmx import template_for

PAGE_SIZE = 50


def audit_reader(view: View) -> View:
    """Admins, operators and billing clerks (each sees its share); others get 403."""
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_read_audit(request.user):
            raise PermissionDenied("your role does not include the audit trail")
        return view(request, *args, **kwargs)
    return role_required()(wrapped)


def _filtered(request: HttpRequest) -> AuditFilterSet:
    return AuditFilterSet(request.GET, queryset=audit_list(user=request.user))


@audit_reader
@vary_on_headers("HX-Request")
def audit_page(request: HttpRequest) -> HttpResponse:
    """The trail, newest first, 50 a page."""
    filterset = _filtered(request)
    records = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template_for(request, "audit/audit_list.html", "audit-table"),
                  {"filterset": filterset, "page": page, "query": query.urlencode()})


@audit_reader
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every record the filter selects (not only one page), as a streamed CSV file."""
    filterset = _filtered(request)
    if not filterset.is_valid():
        return HttpResponse("; ".join(f"{field}: {' '.join(errors)}"
                                      for field, errors in filterset.errors.items()),
                            status=400, content_type="text/plain; charset=utf-8")
    return csv_response(filterset.qs)
