"""The readings table by month on PostgreSQL: where rows land, months ahead, retention.

Against the real migrated test database (migration 0007 partitions it); DDL is transactional
in PostgreSQL, so every test's partitions vanish with its transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from meters.telemetry import partitions
from meters.telemetry.models import Reading
from meters.telemetry.services import readings_purge
from tests.factories import MeterFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="partitioning is PostgreSQL's")
NOW = datetime.now(UTC)


def _where(reading: Reading) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM "  # noqa: S608 (our table)
                       f"{partitions.TABLE} WHERE id = %s", [reading.pk])
        return str(cursor.fetchone()[0])


def _reading(meter: Any, time: datetime, source: str = "MQTT_RT_DATA") -> Reading:
    return Reading.objects.create(meter=meter, source=source, time=time, received_at=NOW,
                                  values={"voltage_a": 230.0})


@pytest.fixture
def meter(db: None) -> Any:
    return MeterFactory()


def test_the_table_is_partitioned_with_this_month_and_three_ahead(meter: Any) -> None:
    assert partitions.is_partitioned()
    months = [p.month for p in partitions.partitions()]
    this = NOW.date().replace(day=1)
    expected = [this]
    for _ in range(partitions.AHEAD):
        expected.append(partitions.next_month(expected[-1]))
    assert set(expected) <= set(months)


def test_a_reading_lands_in_the_partition_of_its_month(meter: Any) -> None:
    reading = _reading(meter, NOW)
    assert _where(reading) == partitions.partition_name(NOW.date())
    assert Reading.objects.get(pk=reading.pk).values == {"voltage_a": 230.0}


def test_a_reading_years_off_goes_to_the_default_and_moves_when_its_month_is_made(
        meter: Any) -> None:
    far = datetime(NOW.year + 6, 3, 14, 12, 0, tzinfo=UTC)
    reading = _reading(meter, far)
    assert _where(reading) == partitions.DEFAULT
    assert partitions.partition_ensure(far.date()) is True
    assert _where(reading) == partitions.partition_name(far.date())
    assert Reading.objects.filter(meter=meter).count() == 1
    assert partitions.partition_ensure(far.date()) is False  # already there
    with pytest.raises(IntegrityError), transaction.atomic():  # dedupe still holds there
        _reading(meter, far)


def test_partitions_ensure_creates_the_missing_months_once(meter: Any) -> None:
    later = datetime(NOW.year + 3, 11, 20, tzinfo=UTC)
    created = partitions.partitions_ensure(now=later, ahead=2)
    assert created == [partitions.partition_name(date(later.year, 11, 1)),
                       partitions.partition_name(date(later.year, 12, 1)),
                       partitions.partition_name(date(later.year + 1, 1, 1))]
    assert partitions.partitions_ensure(now=later, ahead=2) == []


def test_retention_drops_old_months_whole_and_deletes_only_what_is_past_the_cutoff(
        meter: Any, settings: Any) -> None:
    settings.TELEMETRY_RETENTION_DAYS = 400
    cutoff = NOW - timedelta(days=400)
    old_month = (cutoff - timedelta(days=62)).date().replace(day=1)
    partitions.partition_ensure(old_month)
    partitions.partition_ensure(cutoff.date())
    in_old_month = [_reading(meter, datetime.combine(old_month, datetime.min.time(), UTC)
                             + timedelta(hours=h)) for h in range(3)]
    just_past = _reading(meter, cutoff - timedelta(hours=1))
    just_kept = _reading(meter, cutoff + timedelta(hours=1))
    recent = _reading(meter, NOW)
    ancient = _reading(meter, datetime(2001, 1, 1, tzinfo=UTC))  # default partition
    # The rows were inserted in this test's transaction: their deferred foreign-key checks
    # would block DROP TABLE; in production the daily purge has a transaction of its own.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert readings_purge(now=NOW) == len(in_old_month) + 2
    assert partitions.partition_name(old_month) not in {p.name for p in
                                                        partitions.partitions()}
    left = set(Reading.objects.values_list("pk", flat=True))
    assert left == {just_kept.pk, recent.pk}
    assert not {just_past.pk, ancient.pk} & left


def test_the_command_lists_the_months_and_creates_ahead(meter: Any) -> None:
    out = StringIO()
    call_command("readings_partitions", "--ensure", "--ahead", "5", stdout=out)
    text = out.getvalue()
    assert partitions.partition_name(NOW.date()) in text and partitions.DEFAULT in text
    assert len(partitions.partitions()) >= 6
