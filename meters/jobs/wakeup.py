"""A cheap "new job on this gateway" signal, so a bus owner need not query the outbox often.

With REDIS_URL set, a submitted job bumps a per-gateway counter in Redis after its commit; the
owner reads that counter every pickup interval (one GET) and queries the outbox only when it
moved, or at least every ``FULL_CHECK_S`` (jobs whose ``not_before`` arrived, a lost bump).
Without Redis (the embedded demo) the owner simply queries the outbox every interval.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)
FULL_CHECK_S = 1.0
COUNTER_TTL_S = 24 * 3600


@cache
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _key(gateway_id: int) -> str:
    prefix = getattr(settings, "POLL_LEASE_PREFIX", "") or "kpm:lease:"
    return f"{prefix}jobs:{gateway_id}"


def bump(gateway_id: int) -> None:
    """Say that a job for ``gateway_id`` was queued (call after the commit)."""
    if not settings.REDIS_URL:
        return
    try:
        pipe = _client(settings.REDIS_URL).pipeline()
        pipe.incr(_key(gateway_id))
        pipe.expire(_key(gateway_id), COUNTER_TTL_S)  # an idle gateway's counter goes away
        pipe.execute()
    except Exception as exc:  # the owner still finds the job at its next full check
        log.warning("job wake-up for gateway %s not sent: %s", gateway_id, exc)


class Watch:
    """An owner's view of the counter: ``due()`` says whether to query the outbox now."""

    def __init__(self, gateway_id: int, clock: Any) -> None:
        self.gateway_id = gateway_id
        self.clock = clock
        self._seen: bytes | None = None
        self._checked = float("-inf")

    def due(self) -> bool:
        now = self.clock()
        if not settings.REDIS_URL or now - self._checked >= FULL_CHECK_S:
            self._checked = now
            self._seen = self._read()
            return True
        value = self._read()
        if value != self._seen:
            self._seen = value
            return True
        return False

    def _read(self) -> bytes | None:
        try:
            value: bytes | None = _client(settings.REDIS_URL).get(_key(self.gateway_id))
        except Exception:  # Redis away: behave as if something changed (query the outbox)
            return b"?"
        return value
