"""One owner per gateway across processes and machines: a Redis lease with a fencing token.

A gateway's bus must have exactly one master. Workers on different machines take a lease
(``SET NX PX`` with a random token), renew it while they work and release it by compare-and-
delete, so nobody can release a lease they no longer hold. Each successful acquire also takes
the next value of a per-gateway counter, the fencing token: the owner stamps its work with it,
and anything stamped with an older token is from a previous owner that lost the lease while
paused (GC, network) and must be discarded.
"""

from __future__ import annotations

import secrets
from typing import Any

# Take the lease and, only if that succeeded, the next fencing token, in one atomic step so a
# crash cannot leave an owner without a token.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class GatewayLease:
    """The lease on one gateway, as seen by one would-be owner.

    ``client`` is a ``redis.Redis`` (sync) client. ``fence`` is this owner's fencing token while
    it holds the lease, None otherwise.
    """

    def __init__(
        self, client: Any, gateway: str, *, ttl_ms: int = 10_000, prefix: str = "kpm:lease:"
    ) -> None:
        if not gateway:
            raise ValueError("gateway: must not be empty")
        if ttl_ms < 100:
            raise ValueError(f"ttl_ms: {ttl_ms} is too short (minimum 100 ms)")
        self.client = client
        self.gateway = gateway
        self.ttl_ms = ttl_ms
        self.owner_key = f"{prefix}{gateway}:owner"
        self.fence_key = f"{prefix}{gateway}:fence"
        self.token = secrets.token_hex(16)
        self.fence: int | None = None

    def acquire(self) -> int | None:
        """Take the lease if it is free; returns the new fencing token, or None if taken."""
        fence = int(self.client.eval(
            _ACQUIRE, 2, self.owner_key, self.fence_key, self.token, self.ttl_ms
        ))
        self.fence = fence or None
        return self.fence

    def renew(self) -> bool:
        """Extend the lease by its TTL; False (and the fence forgotten) if it was lost."""
        renewed = bool(self.client.eval(_RENEW, 1, self.owner_key, self.token, self.ttl_ms))
        if not renewed:
            self.fence = None
        return renewed

    def release(self) -> bool:
        """Give the lease up if still ours; True if it was."""
        released = bool(self.client.eval(_RELEASE, 1, self.owner_key, self.token))
        self.fence = None
        return released

    def is_current(self, fence: int) -> bool:
        """True if ``fence`` is the newest token handed out for this gateway."""
        latest = self.client.get(self.fence_key)
        return latest is not None and int(latest) == fence

    def __enter__(self) -> GatewayLease:
        if self.acquire() is None:
            raise LeaseTaken(f"gateway {self.gateway} is leased by another owner")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LeaseTaken(RuntimeError):
    """The gateway's lease is held by another owner."""
