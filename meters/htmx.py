"""One place decides whether a request gets a partial or the full page (as NetBox does)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def wants_partial(request: HttpRequest) -> bool:
    """HTMX requests get a fragment; boosted navigation and history restores get the page."""
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """``template`` or its ``#partial`` for HTMX requests."""
    return f"{template}#{partial}" if wants_partial(request) else template
