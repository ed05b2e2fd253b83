"""Template helpers: status badges from the choices, sortable headers, query strings."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html

from meters.choices import MeterStatus

register = template.Library()


@register.simple_tag
def status_badge(value: str) -> str:
    """A coloured badge for a meter status; colour and label come from MeterStatus."""
    status = MeterStatus(value)
    return format_html('<span class="badge badge-{}">{}</span>', status.colour, status.label)


@register.simple_tag(takes_context=True)
def sort_url(context: dict[str, Any], field: str) -> str:
    """The current query with ``ordering`` set to ``field``, reversed if already sorted by it."""
    query: QueryDict = context["request"].GET.copy()
    current = query.get("ordering", "")
    query["ordering"] = f"-{field}" if current == field else field
    query.pop("page", None)
    return f"?{query.urlencode()}"


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], number: int) -> str:
    """The current query on page ``number``."""
    query: QueryDict = context["request"].GET.copy()
    query["page"] = str(number)
    return f"?{query.urlencode()}"
