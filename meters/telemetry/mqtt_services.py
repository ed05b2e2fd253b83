"""MQTT ingest: turn a batch of parsed MQTT messages into candidates for ``readings_store``.

Messages from a meter code not in the inventory become "unknown meter" dead letters and are
counted on UnregisteredMeter, so an operator can adopt the meter from the list. Unknown tags
are kept bounded (TELEMETRY_MAX_EXTRA_TAGS, short names): one message with 59,000 tags must not
grow a reading.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kpm37.errors import ProfileError, ProtocolError
from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import MqttMessage, split_known, to_utc
from kpm37.profile import load_profile
from meters.models import Meter
from meters.telemetry import conf
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.dead_letters import Rejected
from meters.telemetry.models import UnregisteredMeter
from meters.telemetry.pipeline import Candidate
from meters.telemetry.store import BatchResult, readings_store
from meters.telemetry.trust import bounded_extra

log = logging.getLogger(__name__)


def _candidate(meter: Meter, message: MqttMessage) -> Candidate:
    profile = load_profile(meter.profile)
    tags = {**message.unknown, **message.quantities}
    values, unknown = split_known(message.topic, tags, profile.mqtt, profile.mqtt_scale)
    extra, dropped = bounded_extra(unknown, conf.get("TELEMETRY_MAX_EXTRA_TAGS"))
    if dropped:
        log.warning("meter %s %s: %d unknown tags not kept (limit %d, names [a-z0-9_]{1,32})",
                    meter.code, message.topic, dropped, conf.get("TELEMETRY_MAX_EXTRA_TAGS"))
    tz = meter.site.timezone if meter.site_id else "UTC"
    return Candidate(meter=meter, source=message.topic, time=_utc(message.time, tz),
                     values=values, extra=extra, raw=b"\n".join(message.raw), meter_clock=True)


def _utc(local: datetime, tz: str) -> datetime:
    """The meter's local time in UTC; a time UTC cannot hold (year 1 east of Greenwich, 9999
    west of it) becomes the nearest instant it can, which the store then refuses as out of
    range and answers with the clock alarm: the raw payload keeps what the meter sent."""
    try:
        return to_utc(local, tz)
    except PayloadError as exc:
        if exc.field != "time":
            raise
        if local.year > 1:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.min.replace(tzinfo=UTC)


def _unknown_meter(message: MqttMessage) -> Rejected:
    return Rejected(topic=message.topic, payload=b"\n".join(message.raw),
                    reason=f"meter code {message.meter_code} is not in the inventory",
                    kind=DeadLetterKind.UNKNOWN_METER, meter_code=message.meter_code)


@transaction.atomic
def mqtt_batch_ingest(*, messages: Iterable[MqttMessage], rejected: Iterable[Rejected] = (),
                      received_at: datetime | None = None) -> BatchResult:
    """Store a batch of parsed (reassembled) MQTT messages plus the packets that failed parsing."""
    received_at = received_at or timezone.now()
    messages = list(messages)
    codes = {m.meter_code for m in messages}
    meters = {m.code: m for m in Meter.objects.filter(code__in=codes).select_related("site")}
    dead = list(rejected)
    candidates = []
    for message in messages:
        meter = meters.get(message.meter_code)
        if meter is None:
            dead.append(_unknown_meter(message))
        else:
            try:
                candidates.append(_candidate(meter, message))
            except (ProtocolError, ProfileError) as exc:  # bad time zone or profile: keep it
                dead.append(Rejected(topic=message.topic, payload=b"\n".join(message.raw),
                                     reason=str(exc), meter_code=message.meter_code))
    unknown = [d.meter_code for d in dead if d.kind == DeadLetterKind.UNKNOWN_METER]
    unregistered_count(codes=unknown, at=received_at)
    return readings_store(candidates=candidates, dead=dead, received_at=received_at)


def unregistered_count(*, codes: list[str], at: datetime) -> None:
    """Count messages (or dial-ins) from meter codes not in the inventory, listing new codes."""
    for code, count in Counter(codes).items():
        updated = UnregisteredMeter.objects.filter(code=code).update(
            last_seen_at=at, message_count=F("message_count") + count)
        if updated:
            continue
        try:
            with transaction.atomic():
                UnregisteredMeter.objects.create(code=code, first_seen_at=at, last_seen_at=at,
                                                 message_count=count)
        except IntegrityError:  # another ingest process listed it first
            UnregisteredMeter.objects.filter(code=code).update(
                last_seen_at=at, message_count=F("message_count") + count)
