"""A batch that loses the race to open an alarm: another process opened it a moment before.

Real concurrency on PostgreSQL: the main thread opens the alarm in a transaction it holds;
alarms_apply runs in a second thread (its own connection), cannot see that row yet, and its
bulk insert waits on the unique index until the main thread commits, then fails and falls
back to opening row by row, where the contested alarm becomes a repeat.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm
from meters.alarms.rules import Condition, Outcome
from meters.alarms.services import alarms_apply
from tests.factories import MeterFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KIND = AlarmKind.OVER_VOLTAGE


def volts(v: float) -> Condition:
    return Condition(KIND, f"voltage {v} V above 264.0 V", {"phases": {"voltage_a": v}})


def _apply_in_thread(outcomes: list[tuple[int, Outcome]], errors: list[BaseException]) -> None:
    from django.db import connection as thread_connection

    try:
        alarms_apply(outcomes=outcomes, at=T0)
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        thread_connection.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks across connections")
def test_lost_race_turns_into_repeats_and_the_rest_still_open(transactional_db: None) -> None:
    contested, other = MeterFactory(), MeterFactory()
    outcomes: list[tuple[int, Outcome]] = [
        (m.pk, {KIND: volts(v)}) for v in (270, 271, 272) for m in (contested, other)]
    errors: list[BaseException] = []
    worker = threading.Thread(target=_apply_in_thread, args=(outcomes, errors))
    with transaction.atomic():  # "another process": opened, not yet committed
        rival = Alarm.objects.create(meter=contested, kind=KIND, source="meter",
                                     severity="major", first_seen_at=T0, last_seen_at=T0)
        worker.start()
        time.sleep(1.0)  # the worker reads, then blocks on our row in the unique index
    worker.join(timeout=30)
    assert not worker.is_alive() and errors == []
    open_rows = Alarm.objects.filter(state=AlarmState.ACTIVE)
    assert open_rows.filter(meter=contested).get().pk == rival.pk
    assert Alarm.objects.get(pk=rival.pk).count == 1 + 3
    assert Alarm.objects.get(pk=rival.pk).message == "voltage 272 V above 264.0 V"
    assert open_rows.get(meter=other).count == 3
    assert Alarm.objects.count() == 2
