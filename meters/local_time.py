"""How a person reads a time: in the meter's site zone (default), their own zone, or UTC.

Times are stored in UTC. Every page and export renders them through ``format_local`` (the
``{% when %}`` tag in templates), so there is one 24-hour format, ``YYYY-MM-DD HH:MM:SS`` with the
zone named after it, everywhere. The reader's choice lives in the session and is switched from
the control in the page header.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from django.utils.dateparse import parse_datetime

MODES = {"site": "Site's time zone", "mine": "My time zone", "utc": "UTC"}
SESSION_MODE = "time_zone_mode"
SESSION_MINE = "time_zone_mine"
FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Reader:
    """The reader's choice: a mode from MODES and, for "mine", their IANA zone."""

    mode: str = "site"
    mine: str = "UTC"

    def zone_for(self, where: Any) -> tzinfo:
        """The zone a time about ``where`` (meter, site, gateway, zone name) is shown in."""
        if self.mode == "utc":
            return UTC
        if self.mode == "mine":
            return zone_or_utc(self.mine)
        return zone_or_utc(site_zone_name(where))


def zone_or_utc(name: str | None) -> tzinfo:
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def is_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA zone."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def site_zone_name(where: Any) -> str | None:
    """The site zone of a meter, gateway or site (or a zone name given as is)."""
    if where is None or isinstance(where, str):
        return where
    site = getattr(where, "site", None) if not hasattr(where, "timezone") else where
    return getattr(site, "timezone", None) if site is not None else None


def reader_of(request: Any) -> Reader:
    """The reader's choice from the session; site zones when there is none."""
    session = getattr(request, "session", None)
    if session is None:
        return Reader()
    mode = session.get(SESSION_MODE, "site")
    return Reader(mode=mode if mode in MODES else "site", mine=session.get(SESSION_MINE, "UTC"))


def zone_label(moment: datetime) -> str:
    """A short zone name for an aware time: "CET", "CST"; an offset where there is no name."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def as_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime or an ISO string (as JSON state holds them)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_local(value: Any, zone: tzinfo) -> str:
    """``2026-11-29 17:53:04 CET``: the one way a time is written for a person."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.strftime(FORMAT)} {zone_label(local)}"
