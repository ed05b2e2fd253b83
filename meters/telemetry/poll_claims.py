"""Claims of a poll cycle: the gateway (database row plus optional Redis lease) and its meters.

The gateway claim is a compare-and-set on GatewayClaim.busy_until and, when REDIS_URL is set,
kpm37's GatewayLease whose fencing token stamps the run. Each due meter is then won by a
compare-and-set on PollState.next_poll_at, so two pollers never read the same meter twice.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kpm37.lease import GatewayLease
from meters.choices import TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.models import GatewayClaim, PollState


class Claim:
    """The database claim on a gateway and, with REDIS_URL, the Redis lease beside it."""

    def __init__(self, gateway: Gateway, ttl_s: float) -> None:
        self.gateway = gateway
        self.ttl = timedelta(seconds=ttl_s)
        self.token = secrets.token_hex(16)
        self.lease: GatewayLease | None = None

    def take(self) -> str:
        """Take both; returns "" on success, else why not (and holds nothing)."""
        now = timezone.now()
        GatewayClaim.objects.get_or_create(  # get_or_create retries the get if two insert
            gateway=self.gateway, defaults={"busy_until": now - timedelta(seconds=1)})
        won = GatewayClaim.objects.filter(gateway=self.gateway, busy_until__lt=now).update(
            busy_until=now + self.ttl, claimed_by=self.token)
        if not won:
            return "already claimed by another poller"
        if settings.REDIS_URL and not self._lease():
            self.release()
            return "leased by another poller (Redis)"
        return ""

    def _lease(self) -> bool:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        prefix = getattr(settings, "POLL_LEASE_PREFIX", "") or os.environ.get(
            "POLL_LEASE_PREFIX", "kpm:lease:")
        self.lease = GatewayLease(client, self.gateway.name,
                                  ttl_ms=int(self.ttl.total_seconds() * 1000), prefix=prefix)
        return self.lease.acquire() is not None

    @property
    def fence(self) -> int | None:
        return self.lease.fence if self.lease else None

    def still_ours(self) -> bool:
        """Inside a transaction: lock the claim row and check both claims still hold."""
        row = GatewayClaim.objects.select_for_update().filter(
            gateway=self.gateway, claimed_by=self.token, busy_until__gt=timezone.now())
        if not row.exists():
            return False
        return self.lease is None or self.lease.renew()

    def extend(self, seconds: float) -> bool:
        """Hold the claim (and the lease) ``seconds`` more from now; False if it was lost.

        The bus owner calls this while it keeps working (jobs arrive during a cycle), so a
        living owner keeps its bus and a dead one's claim lapses ``seconds`` after its last
        sign of life."""
        until = timezone.now() + timedelta(seconds=seconds)
        held = GatewayClaim.objects.filter(gateway=self.gateway, claimed_by=self.token).update(
            busy_until=until)
        if held and self.lease is not None:
            self.lease.ttl_ms = max(100, int(seconds * 1000))  # lapses as soon as the claim
            return self.lease.renew()
        return bool(held)

    def release(self) -> None:
        """Give the gateway back at once (only if the claim is still this one's)."""
        GatewayClaim.objects.filter(gateway=self.gateway, claimed_by=self.token).update(
            busy_until=timezone.now(), claimed_by="")
        if self.lease is not None:
            self.lease.release()
            self.lease.client.close()


def meters_claim(gateway: Gateway, meter_ids: list[int] | None, now: datetime,
                 hold_until: datetime) -> list[Meter]:
    """Due meters (or exactly ``meter_ids``, due or not), each won by compare-and-set."""
    meters = Meter.objects.filter(gateway=gateway, transport=TransportKind.MODBUS)
    if meter_ids is not None:
        meters = meters.filter(pk__in=meter_ids)
    meters = list(meters.select_related("site").order_by("address"))
    PollState.objects.bulk_create([PollState(meter=m, next_poll_at=now) for m in meters],
                                  ignore_conflicts=True)
    seen = dict(PollState.objects.filter(meter__in=meters).values_list("meter_id", "next_poll_at"))
    claimed = []
    for meter in meters:
        if meter_ids is None and seen[meter.pk] > now:
            continue
        if PollState.objects.filter(meter=meter, next_poll_at=seen[meter.pk]).update(
                next_poll_at=hold_until):
            claimed.append(meter)
    return claimed


def meters_unhold(meters: list[Meter], held_until: datetime, now: datetime) -> None:
    """Make meters still held by this cycle due again (a retried task must find them)."""
    PollState.objects.filter(meter__in=meters, next_poll_at=held_until).update(next_poll_at=now)
