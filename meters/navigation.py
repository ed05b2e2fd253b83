"""The main menu per role: each user sees the pages it may open, and nothing else.

One table says which pages exist and who may open them; the pages' own guards
(``meters.access.role_required``) and the API's permissions answer the same question, and
tests/test_role_consistency.py walks every page and its API twin for every role to hold them
to it. Used as a template context processor (``nav``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from meters.audit.selectors import may_read_audit
from meters.roles import has_any_role, is_fleet_wide, may_see_alarms


@dataclass(frozen=True)
class NavItem:
    """One menu entry: its label, where it goes, and who may open it."""

    label: str
    href: str
    allowed: Callable[[Any], bool]
    prefixes: tuple[str, ...] = ()

    def current(self, path: str) -> bool:
        prefixes = self.prefixes or (self.href,)
        return any(path == p if p == "/" else path.startswith(p) for p in prefixes)


def _perm(name: str) -> Callable[[Any], bool]:
    return lambda user: has_any_role(user) and user.has_perm(name)


MENU = (
    NavItem("Fleet", "/", has_any_role, ("/", "/meters/")),
    NavItem("Board", "/telemetry/board/", has_any_role),
    NavItem("Energy", "/telemetry/energy/", has_any_role),
    NavItem("Gateways", "/gateways/", is_fleet_wide),
    NavItem("Alarms", "/alarms/", may_see_alarms),
    NavItem("Tariffs", "/tariffs/", _perm("tariffs.view_tariffplan")),
    NavItem("Relays", "/relays/groups/", _perm("relays.view_relaygroupcommand")),
    NavItem("Dead letters", "/telemetry/dead-letters/", is_fleet_wide),
    NavItem("Unregistered", "/telemetry/unregistered/", is_fleet_wide),
    NavItem("Audit", "/audit/", may_read_audit),
    NavItem("Import", "/import/", _perm("meters.add_meter")),
    NavItem("API docs", "/api/docs/", has_any_role),
    NavItem("Admin", "/admin/", lambda user: bool(user.is_active and user.is_staff)),
)


def menu_for(user: Any, path: str = "") -> list[dict[str, Any]]:
    """The menu entries ``user`` may open, each with whether it is the current page."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [{"label": item.label, "href": item.href, "current": item.current(path)}
            for item in MENU if item.allowed(user)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: ``nav``, the menu of the logged-in user."""
    return {"nav": menu_for(getattr(request, "user", None), request.path)}
