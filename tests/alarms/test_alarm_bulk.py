"""alarms_apply on batches: repeats summed per alarm and written together, order kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from meters.alarms.bulk import Repeats
from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm, NotificationChannel
from meters.alarms.rules import Condition, Outcome
from meters.alarms.services import alarm_raise, alarms_apply
from tests.factories import MeterFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
OVER_V = AlarmKind.OVER_VOLTAGE
OVER_I = AlarmKind.OVER_CURRENT

pytestmark = pytest.mark.django_db


def volts(v: float) -> Condition:
    return Condition(OVER_V, f"voltage {v} V above 264.0 V", {"phases": {"voltage_a": v}})


def amps(a: float) -> Condition:
    return Condition(OVER_I, f"current {a} A above 6.0 A", {"phases": {"current_a": a}})


def open_alarm(meter: Any, kind: str) -> Alarm:
    return Alarm.objects.get(meter=meter, kind=kind, state=AlarmState.ACTIVE)


def test_three_repeats_in_one_call_add_three_and_keep_the_last_message() -> None:
    meter = MeterFactory()
    first = alarm_raise(meter_id=meter.pk, condition=volts(270), at=T0)
    alarms_apply(outcomes=[(meter.pk, {OVER_V: volts(v)}) for v in (271, 272, 273)], at=T1)
    alarm = open_alarm(meter, OVER_V)
    assert alarm.pk == first.pk and alarm.count == 1 + 3
    assert alarm.message == "voltage 273 V above 264.0 V"
    assert alarm.details == {"phases": {"voltage_a": 273}}
    assert alarm.last_seen_at == T1 and alarm.first_seen_at == T0


def test_two_meters_repeating_different_kinds_are_counted_apart() -> None:
    one, two = MeterFactory(), MeterFactory()
    alarm_raise(meter_id=one.pk, condition=volts(270), at=T0)
    alarm_raise(meter_id=two.pk, condition=amps(9), at=T0)
    alarm_raise(meter_id=two.pk, condition=amps(9), at=T0)  # count 2 before the batch
    outcomes: list[tuple[int, Outcome]] = [
        (one.pk, {OVER_V: volts(280)}), (two.pk, {OVER_I: amps(10)}),
        (two.pk, {OVER_I: amps(11)}), (one.pk, {OVER_V: volts(281)}),
        (two.pk, {OVER_I: amps(12)})]
    alarms_apply(outcomes=outcomes, at=T1)
    assert (open_alarm(one, OVER_V).count, open_alarm(two, OVER_I).count) == (1 + 2, 2 + 3)
    assert open_alarm(one, OVER_V).details == {"phases": {"voltage_a": 281}}
    assert open_alarm(two, OVER_I).message == "current 12 A above 6.0 A"
    assert Alarm.objects.count() == 2


def test_raise_then_repeats_in_the_same_call(django_capture_on_commit_callbacks: Any) -> None:
    NotificationChannel.objects.create(name="ops", kind="webhook", target="http://127.0.0.1:9/")
    meter = MeterFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alarms_apply(outcomes=[(meter.pk, {OVER_V: volts(v)}) for v in (270, 275, 279)], at=T1)
    alarm = open_alarm(meter, OVER_V)
    assert alarm.count == 3 and alarm.first_seen_at == T1
    assert alarm.details == {"phases": {"voltage_a": 279}}
    assert len(callbacks) == 1  # one new alarm, announced once after commit


def test_repeat_then_clear_leaves_the_counted_alarm_cleared() -> None:
    meter = MeterFactory()
    first = alarm_raise(meter_id=meter.pk, condition=volts(270), at=T0)
    alarms_apply(outcomes=[(meter.pk, {OVER_V: volts(290)}), (meter.pk, {OVER_V: None})], at=T1)
    alarm = Alarm.objects.get(pk=first.pk)
    assert alarm.state == AlarmState.CLEARED and alarm.cleared_at == T1
    assert alarm.count == 2 and alarm.details == {"phases": {"voltage_a": 290}}
    assert not Alarm.objects.filter(meter=meter).exclude(pk=first.pk).exists()


def test_clear_then_repeat_opens_a_new_alarm_and_counts_it() -> None:
    meter = MeterFactory()
    first = alarm_raise(meter_id=meter.pk, condition=volts(270), at=T0)
    alarms_apply(outcomes=[(meter.pk, {OVER_V: None}), (meter.pk, {OVER_V: volts(300)}),
                           (meter.pk, {OVER_V: volts(301)})], at=T1)
    old = Alarm.objects.get(pk=first.pk)
    assert old.state == AlarmState.CLEARED and old.count == 1
    new = open_alarm(meter, OVER_V)
    assert new.pk != first.pk and new.count == 2 and new.first_seen_at == T1
    assert new.message == "voltage 301 V above 264.0 V"


def test_a_batch_of_500_repeats_takes_a_bounded_number_of_queries(
        django_assert_max_num_queries: Any) -> None:
    meters = MeterFactory.create_batch(125)
    Alarm.objects.bulk_create([
        Alarm(meter=m, kind=kind, source="meter", severity="major", first_seen_at=T0,
              last_seen_at=T0) for m in meters for kind in (OVER_V, OVER_I)])
    outcomes: list[tuple[int, Outcome]] = [
        (m.pk, {OVER_V: volts(270 + n), OVER_I: amps(9 + n)}) for n in (1, 2) for m in meters]
    assert sum(len(o) for _, o in outcomes) == 500
    # PostgreSQL: read open alarms, one UPDATE, savepoints. SQLite: one UPDATE per alarm.
    limit = 10 if connection.vendor == "postgresql" else 10 + 250
    with django_assert_max_num_queries(limit):
        alarms_apply(outcomes=outcomes, at=T1)
    counts = set(Alarm.objects.values_list("count", flat=True))
    assert counts == {3}
    assert open_alarm(meters[-1], OVER_I).details == {"phases": {"current_a": 11}}


def test_tallies_over_several_chunks_all_land() -> None:
    meters = MeterFactory.create_batch(5)
    alarms = [alarm_raise(meter_id=m.pk, condition=volts(270), at=T0) for m in meters]
    repeats = Repeats()
    for n, alarm in enumerate(alarms * 2):
        repeats.add(alarm.pk, at=T1, message=f"m{n}", details={"n": n})
    repeats.write(chunk=2)  # three statements on PostgreSQL, the last one with a single row
    stored = {a.pk: a for a in Alarm.objects.all()}
    for n, alarm in enumerate(alarms):
        assert stored[alarm.pk].count == 3
        assert stored[alarm.pk].message == f"m{n + 5}"
        assert stored[alarm.pk].details == {"n": n + 5}


def test_a_batch_opening_250_alarms_takes_a_bounded_number_of_queries(
        django_assert_max_num_queries: Any) -> None:
    NotificationChannel.objects.create(name="ops", kind="webhook", target="http://127.0.0.1:9/")
    meters = MeterFactory.create_batch(125)
    outcomes: list[tuple[int, Outcome]] = [
        (m.pk, {OVER_V: volts(270 + n), OVER_I: amps(9 + n)}) for n in (1, 2) for m in meters]
    with django_assert_max_num_queries(10):  # read, savepoint, INSERT, release, channels
        alarms_apply(outcomes=outcomes, at=T1)
    assert set(Alarm.objects.values_list("count", "state")) == {(2, AlarmState.ACTIVE)}
    assert Alarm.objects.count() == 250
    assert open_alarm(meters[0], OVER_V).message == "voltage 272 V above 264.0 V"


def test_opened_then_cleared_in_one_call_is_stored_cleared() -> None:
    meter = MeterFactory()
    alarms_apply(outcomes=[(meter.pk, {OVER_V: volts(270)}), (meter.pk, {OVER_V: volts(271)}),
                           (meter.pk, {OVER_V: None}), (meter.pk, {OVER_V: volts(280)})], at=T1)
    cleared = Alarm.objects.get(meter=meter, state=AlarmState.CLEARED)
    assert cleared.count == 2 and cleared.message == "voltage 271 V above 264.0 V"
    reopened = open_alarm(meter, OVER_V)
    assert reopened.count == 1 and reopened.details == {"phases": {"voltage_a": 280}}
