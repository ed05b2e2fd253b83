"""Issue 7: what a meter says is trusted only as far as it can be (see meters/telemetry/trust.py).

Each test publishes through a Mosquitto of its own into the real ``manage.py ingest_mqtt``:
future times never win "latest" and raise the clock alarm while backlog readings keep their
times; an implausible counter jump does not lock out the genuine counter after it; a
conflicting duplicate is kept as evidence with an alarm; only profile quantities enter the
latest state and unknown tags stay bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from kpm37.mqtt.payload import parse_time, to_utc
from kpm37.quantities import QUANTITIES
from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, LatestState, Reading
from tests.factories import MeterFactory
from tests.services import require_postgres
from tests.telemetry.background import wait_until
from tests.telemetry.hostile import Publisher, body, local, start_ingest
from tests.telemetry.ingest_process import IngestProcess
from tests.telemetry.private_broker import PrivateBroker

TZ = "Europe/Vienna"
ENY = "MQTT_ENY_NOW"


def utc(meter_local: str) -> datetime:
    return to_utc(parse_time(meter_local), TZ)


@pytest.fixture
def wire(broker: PrivateBroker) -> Iterator[tuple[Publisher, IngestProcess]]:
    require_postgres()
    ingest = start_ingest(broker.port)
    pub = Publisher(broker.port)
    yield pub, ingest
    pub.close()
    ingest.stop()


def settled(ingest: IngestProcess, readings: int, dead: int) -> None:
    assert wait_until(lambda: Reading.objects.count() == readings
                      and DeadLetter.objects.count() == dead, 30), \
        f"{Reading.objects.count()} readings, {DeadLetter.objects.count()} dead letters\n" \
        + "".join(ingest.lines[-20:])
    assert ingest.proc.poll() is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_future_time_never_wins_latest_and_backlog_keeps_its_time(
        wire: tuple[Publisher, IngestProcess], vienna: Any) -> None:
    pub, ingest = wire
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    now, ahead = local(TZ), local(TZ, timedelta(hours=2))
    backlog = local(TZ, -timedelta(days=3))
    pub.send(body(meter.code, now, ua=230.0))
    pub.send(body(meter.code, ahead, ua=999.0))  # a clock two hours fast
    pub.send(body(meter.code, "20990101000000", ua=998.0))
    pub.send(body(meter.code, backlog, ua=210.0))  # a backlog flush after an outage
    settled(ingest, readings=2, dead=2)
    assert set(DeadLetter.objects.values_list("kind", flat=True)) == {DeadLetterKind.BAD_TIME}
    assert sorted(Reading.objects.values_list("time", flat=True)) == [utc(backlog), utc(now)]
    latest = LatestState.objects.get(meter=meter).values["voltage_a"]
    assert latest == {"value": 230.0, "time": utc(now).isoformat()}
    # The backlog may raise it too (a clock behind looks the same); the fast clock holds it.
    alarm = Alarm.objects.get(meter=meter, kind=AlarmKind.CLOCK_OFF, state=AlarmState.ACTIVE)
    assert alarm.details["offset_s"] > 3600


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_implausible_counter_jump_does_not_lock_out_the_real_counter(
        wire: tuple[Publisher, IngestProcess], vienna: Any) -> None:
    pub, ingest = wire
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    times = [local(TZ, -timedelta(minutes=m)) for m in (4, 3, 2, 1)]
    pub.send(body(meter.code, times[0], zygsz=100.0), ENY)
    pub.send(body(meter.code, times[1], zygsz=1e12), ENY)  # a glitch
    pub.send(body(meter.code, times[2], zygsz=100.02), ENY)  # the real counter goes on
    pub.send(body(meter.code, times[3], zygsz=100.05), ENY)
    settled(ingest, readings=3, dead=1)
    letter = DeadLetter.objects.get()
    assert letter.kind == DeadLetterKind.COUNTER_JUMP and b"1000000000000" in bytes(letter.payload)
    assert "Import active energy 100.000 kWh -> 1000000000000.000 kWh" in letter.reason
    latest = LatestState.objects.get(meter=meter).values["import_active_energy"]
    assert latest["value"] == pytest.approx(100.05)
    assert Alarm.objects.get(meter=meter, kind=AlarmKind.COUNTER_JUMP).details["counters"]
    assert not Alarm.objects.filter(kind=AlarmKind.COUNTER_BACKWARDS).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_conflicting_duplicate_is_evidence_and_an_alarm(
        wire: tuple[Publisher, IngestProcess], vienna: Any) -> None:
    pub, ingest = wire
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    when = local(TZ, -timedelta(minutes=5))
    first = body(meter.code, when, zygsz=50.0, fygsz=1.0)
    other = body(meter.code, when, zygsz=51.5, fygsz=1.0)
    pub.send(first, ENY)
    settled(ingest, readings=1, dead=0)
    pub.send(first, ENY)  # an identical repeat is just a duplicate
    pub.send(body(meter.code, when, zygsz=50.0), ENY)  # so is one lacking a tag
    pub.send(other, ENY)
    settled(ingest, readings=1, dead=1)
    letter = DeadLetter.objects.get()
    assert letter.kind == DeadLetterKind.DUPLICATE_CONFLICT and bytes(letter.payload) == other
    assert "Import active energy stored 50.000 kWh, now 51.500 kWh" in letter.reason
    assert Reading.objects.get().values["import_active_energy"] == 50.0  # first one kept
    alarm = Alarm.objects.get(meter=meter, kind=AlarmKind.DUPLICATE_CONFLICT)
    assert alarm.details["values"]["import_active_energy"] == {"stored": 50.0, "new": 51.5}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_only_profile_quantities_enter_latest_and_unknown_tags_stay_bounded(
        wire: tuple[Publisher, IngestProcess], vienna: Any) -> None:
    pub, ingest = wire
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    tags: dict[str, object] = {f"x{n}": n for n in range(900)}
    tags["y" * 100] = 1.0  # a name too long to keep
    pub.send(body(meter.code, local(TZ), ua=230.0, ub=231.0, uc=229.0, **tags))
    settled(ingest, readings=1, dead=0)
    reading = Reading.objects.get()
    assert reading.values["voltage_a"] == 230.0
    assert len(reading.extra) == 64 and "y" * 100 not in reading.extra
    latest = LatestState.objects.get(meter=meter).values
    assert set(latest) == {"voltage_a", "voltage_b", "voltage_c"}
    assert set(latest) <= set(QUANTITIES)
