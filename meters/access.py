"""Page access: log in first, then hold a role; ``fleet_wide`` pages exclude tenant viewers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from meters.roles import has_any_role, is_fleet_wide

View = Callable[..., HttpResponse]


def role_required(fleet_wide: bool = False, permission: str = "") -> Callable[[View], View]:
    """Decorate a page view: anonymous users go to the login page, outsiders get 403."""
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed = is_fleet_wide(request.user) if fleet_wide else has_any_role(request.user)
            if not allowed or (permission and not request.user.has_perm(permission)):
                raise PermissionDenied("your role does not include this page")
            return view(request, *args, **kwargs)
        return login_required(wrapped)
    return decorate
