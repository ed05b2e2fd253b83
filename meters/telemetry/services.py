"""Writes of the telemetry app: store a batch of readings, dead letters, adoption, retention.

``readings_store`` (in ``store``) is the one path into history for MQTT messages and Modbus
polls alike: it refuses all-zero messages and backwards energy counters (recording why), drops
duplicates of (meter, source, time), inserts the rest in bulk, folds them into each meter's
latest state, marks meters online and raises or clears alarms, all in one transaction, so a
caller that acknowledges after it returns never acknowledges what was not committed. The MQTT
batch path is ``mqtt_services.mqtt_batch_ingest``. This module holds the housekeeping writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from meters.alarms.choices import AlarmKind
from meters.alarms.rules import Condition
from meters.alarms.services import alarms_apply
from meters.audit.services import audit_record
from meters.audit.snapshot import snapshot
from meters.choices import MeterStatus, TransportKind
from meters.models import Meter
from meters.telemetry import conf
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter
from meters.telemetry.partitions import partitions_drop_before, partitions_ensure

# --- platform housekeeping --------------------------------------------------------------------

@transaction.atomic
def meters_mark_offline(*, now: datetime | None = None) -> list[int]:
    """Mark meters silent for N upload/poll intervals offline and raise their offline alarm."""
    now = now or timezone.now()
    n = conf.get("TELEMETRY_OFFLINE_INTERVALS")
    speaking = (MeterStatus.ONLINE, MeterStatus.DATA_REFUSED)
    online = Meter.objects.filter(status__in=speaking)
    silent: list[int] = []
    for interval in online.values_list("poll_interval_s", flat=True).distinct():
        cutoff = now - timedelta(seconds=interval * n)
        silent += online.filter(poll_interval_s=interval, last_seen_at__lt=cutoff) \
            .values_list("pk", flat=True)
    # Only rows still online flip, so a meter that spoke meanwhile stays: the rows are locked
    # and re-checked, then flipped in one UPDATE (not one per meter).
    flipped = list(Meter.objects.select_for_update().filter(pk__in=silent,
                                                            status__in=speaking)
                   .order_by("pk").values_list("pk", flat=True))
    Meter.objects.filter(pk__in=flipped).update(status=MeterStatus.OFFLINE)
    alarms_apply(outcomes=[(pk, {AlarmKind.OFFLINE: Condition(
        AlarmKind.OFFLINE, f"no data for {n} intervals", {"intervals": n})}) for pk in flipped],
        at=now)
    return flipped


@transaction.atomic
def readings_purge(*, now: datetime | None = None) -> int:
    """Delete history older than the retention setting; returns rows removed.

    On PostgreSQL whole months go by dropping their partition; only the month straddling the
    cutoff (and the default partition) is deleted row by row. The partitions of this month
    and the next ones are made sure of on the way (see partitions.py)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.get("TELEMETRY_RETENTION_DAYS"))
    dropped = partitions_drop_before(cutoff)
    deleted, _ = Reading.objects.filter(time__lt=cutoff).delete()
    DeadLetter.objects.filter(received_at__lt=cutoff).delete()
    partitions_ensure(now=now)
    return deleted + sum(dropped.values())


@transaction.atomic
def unregistered_adopt(*, unregistered: UnregisteredMeter, site: Any = None, tenant: Any = None,
                       profile: str = "kpm37", poll_interval_s: int | None = None) -> Meter:
    """Create the MQTT meter for an unregistered code; its later messages are then ingested."""
    meter = Meter(code=unregistered.code, transport=TransportKind.MQTT, site=site, tenant=tenant,
                  profile=profile,
                  poll_interval_s=poll_interval_s or settings.METER_DEFAULT_POLL_INTERVAL_S)
    meter.full_clean()
    meter.save()
    unregistered.adopted_meter = meter
    unregistered.save(update_fields=["adopted_meter"])
    audit_record(kind="meter.adopt", obj=meter, after=snapshot(meter, [
        "code", "transport", "profile", "site", "tenant", "poll_interval_s"]),
        detail=f"heard from {unregistered.message_count} times since "
               f"{unregistered.first_seen_at:%Y-%m-%d %H:%M} UTC")
    return meter
