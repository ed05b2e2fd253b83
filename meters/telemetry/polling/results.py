"""What a poll cycle produces: per-meter results, the cycle's report, and the poll error.

Shared by the steps of the ``meters.telemetry.polling`` package; kept apart so those modules
depend on these types without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meters.bus import BUS_KINDS, BusError

CLAIM_MARGIN_S = 10  # on top of the worst-case bus time, before a crashed cycle's claim expires
MAX_BACKOFF_S = 3600  # a failing meter is still tried at least hourly (or at its own interval)
POLLED_KINDS = BUS_KINDS  # the gateways a poller opens: dial-in meters call in instead


class PollError(BusError):
    """The gateway cannot be polled by this service: unknown, disabled, or not a polled kind."""


@dataclass(frozen=True)
class MeterResult:
    """What one meter gave in a cycle: its values, or the error type and message."""

    meter_id: int
    code: str
    address: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""
    raw: bytes = b""
    # Seconds from the cycle's start until this meter's read finished: on a slow bus the last
    # meter is read many seconds after the first, and its reading is stamped with its own time.
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class PollReport:
    """What a cycle did: whether it got the claim, each meter's result, rows stored."""

    gateway_id: int
    gateway: str
    claimed: bool = True
    note: str = ""
    run_id: int | None = None
    fence: int | None = None
    results: list[MeterResult] = field(default_factory=list)
    stored: int = 0

    @property
    def ok(self) -> list[MeterResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[MeterResult]:
        return [r for r in self.results if not r.ok]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary (a Celery task's result)."""
        return {"gateway": self.gateway, "claimed": self.claimed, "note": self.note,
                "run": self.run_id, "fence": self.fence, "ok": len(self.ok),
                "stored": self.stored,
                "failed": {r.code: f"{r.error}: {r.message}" for r in self.failed}}
