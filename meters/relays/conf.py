"""Relay settings, read from django.conf.settings with their defaults."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # A group command for more meters than this needs the count typed back and a second
    # operator's approval.
    "RELAY_GROUP_APPROVAL_ABOVE": 5,
    # Group commands go out at most this many meters a minute (jobs' not_before is staggered).
    "RELAY_GROUP_RATE_PER_MINUTE": 30,
    # A relay command not carried out by then (an offline meter) expires, visibly.
    "RELAY_COMMAND_TTL_S": 600,
    # The largest group one command may target.
    "RELAY_GROUP_MAX_METERS": 10000,
}


def get(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))
