"""Extension hook for pages: other apps add a panel to the meter page or the fleet page.

A panel is a titled box whose content the page loads from the app's own URL (HTMX), so meters
shows it without importing that app, as ``register_detail_field`` does for the API. Register
from an AppConfig.ready().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class Panel:
    """``url_name`` is reversed with the meter's id (meter page) or with no arguments."""

    title: str
    url_name: str
    permission: str = ""


_METER_PANELS: dict[str, Panel] = {}
_FLEET_PANELS: dict[str, Panel] = {}


def register_meter_panel(panel: Panel) -> None:
    _METER_PANELS[panel.url_name] = panel


def register_fleet_panel(panel: Panel) -> None:
    _FLEET_PANELS[panel.url_name] = panel


def meter_panels(user: Any, meter: Any) -> list[dict[str, str]]:
    """The meter page's panels this user may see, with their URLs."""
    return [{"title": p.title, "url": reverse(p.url_name, args=[meter.pk])}
            for p in _METER_PANELS.values() if not p.permission or user.has_perm(p.permission)]


def fleet_panels(user: Any) -> list[dict[str, str]]:
    """The fleet page's panels this user may see, with their URLs."""
    return [{"title": p.title, "url": reverse(p.url_name)}
            for p in _FLEET_PANELS.values() if not p.permission or user.has_perm(p.permission)]
