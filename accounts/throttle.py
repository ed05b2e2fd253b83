"""Counting failures in the cache: login lockouts and password-reset mail limits.

A failed log-in counts against the user name and against the client address. Once either
reaches its limit, every log-in for that name (or from that address) is refused, even with the
right password, until the lockout window has passed; a successful log-in clears the name's
count. Counters are fixed windows in the default cache (Redis when REDIS_URL is set, so every
web process counts together). Keys hold a hash of the name, never the name itself.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from meters.audit.context import client_ip as audit_client_ip


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``window_s`` seconds for one key."""

    name: str
    count: int
    window_s: int


def login_limits() -> tuple[Limit, Limit]:
    window = settings.LOGIN_LOCKOUT_S
    return (Limit("login-user", settings.LOGIN_FAILURES_PER_USER, window),
            Limit("login-ip", settings.LOGIN_FAILURES_PER_IP, window))


def reset_limits() -> tuple[Limit, Limit]:
    return (Limit("reset-email", settings.PASSWORD_RESET_PER_EMAIL, 3600),
            Limit("reset-ip", settings.PASSWORD_RESET_PER_IP, 3600))


def client_ip(request: HttpRequest | None) -> str:
    """The client's address by the audit trail's rule (meters.audit.context.client_ip)."""
    if request is None:
        return "unknown"
    return audit_client_ip(request) or "unknown"


def _key(limit: Limit, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return f"throttle:{limit.name}:{digest}"


def count(limit: Limit, value: str) -> None:
    """Count one event; the window starts with the first and the block lasts a full window."""
    key = _key(limit, value)
    if cache.add(key, 1, limit.window_s):
        return
    try:
        reached = cache.incr(key) >= limit.count
    except ValueError:  # expired between add and incr
        reached = not cache.add(key, 1, limit.window_s)
    if reached:
        cache.set(f"{key}:until", time.time() + limit.window_s, limit.window_s)


def blocked_for(limit: Limit, value: str) -> int:
    """Seconds until ``value`` may try again (0: not blocked)."""
    key = _key(limit, value)
    until = cache.get(f"{key}:until")
    if until is None and (cache.get(key) or 0) >= limit.count:
        until = time.time() + limit.window_s  # reached without the marker (a race): block
    return max(0, math.ceil(until - time.time())) if until else 0


def clear(limit: Limit, value: str) -> None:
    key = _key(limit, value)
    cache.delete_many([key, f"{key}:until"])


def login_blocked_for(username: str, request: HttpRequest | None) -> int:
    """Seconds until this name may log in from this address again (0: now)."""
    per_user, per_ip = login_limits()
    return max(blocked_for(per_user, username), blocked_for(per_ip, client_ip(request)))


def minutes(seconds: int) -> str:
    n = max(1, math.ceil(seconds / 60))
    return f"{n} minute{'s' if n != 1 else ''}"
