"""The meters of a poll cycle: each due meter won by a compare-and-set on
PollState.next_poll_at, so two pollers never read the same meter twice. (The gateway's own
claim is meters.bus.Claim.)"""

from __future__ import annotations

from datetime import datetime

from meters.choices import TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.models import PollState


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
