"""Issue 7: a message the database refuses does not hold back the batch it came in.

The database itself refuses one row here (a trigger raising for one value, as a constraint or a
corrupt index might in production); every other message of the batch is stored, the refused
one becomes an "unstorable" dead letter, and all packets may be acknowledged. Dead letters of
hostile topics and sizes are stored bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from meters.telemetry.batching import PacketBatcher
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading
from meters.telemetry.pipeline import Candidate
from meters.telemetry.store import readings_store
from tests.factories import MeterFactory
from tests.services import require_postgres

RECEIVED = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)


def message(code: str, minute: int, volts: float) -> bytes:
    return (f'{{"id":"{code}","ua":{volts},"time":"2026030112{minute:02d}00","isend":"1"}}'
            .encode())



@pytest.fixture
def refuse_666(db: None) -> None:
    """A trigger that makes PostgreSQL refuse any reading with voltage_a 666."""
    require_postgres()
    table = Reading._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_666() RETURNS trigger AS $$
            BEGIN
                IF NEW.values->>'voltage_a' = '666.0' THEN
                    RAISE EXCEPTION 'the database refuses this row';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        cursor.execute(f"CREATE TRIGGER refuse_666 BEFORE INSERT ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION refuse_666()")


def test_a_row_the_database_refuses_is_a_dead_letter_and_the_rest_is_stored(
        refuse_666: None, vienna: Any) -> None:
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    batcher = PacketBatcher()
    for n, volts in enumerate([230.0, 666.0, 231.0]):
        batcher.feed("MQTT_RT_DATA", message(meter.code, n, volts), token=n)
    result, tokens = batcher.commit(flush=True, received_at=RECEIVED)
    assert sorted(tokens) == [0, 1, 2]  # all acknowledged: nothing is redelivered for ever
    assert sorted(r.values["voltage_a"] for r in Reading.objects.all()) == [230.0, 231.0]
    letter = DeadLetter.objects.get()
    assert letter.kind == DeadLetterKind.UNSTORABLE and b"666" in bytes(letter.payload)
    assert "the database refuses this row" in letter.reason
    assert result.stored == 2 and result.dead[DeadLetterKind.UNSTORABLE] == 1
    assert batcher.totals.stored == 2


@pytest.mark.django_db
def test_dead_letter_of_a_nul_topic_and_a_huge_payload_is_bounded() -> None:
    batcher = PacketBatcher()
    batcher.feed("MQTT_RT\x00DATA", b"\x00" * 40_000, token=1)
    batcher.commit(received_at=RECEIVED)
    letter = DeadLetter.objects.get()
    assert letter.topic == "MQTT_RT\\x00DATA"
    assert len(bytes(letter.payload)) == 16384
    assert "cut to its first 16384 of 40000 bytes" in letter.reason and len(letter.reason) < 400


@pytest.mark.django_db
def test_a_poll_value_that_is_not_finite_is_refused_not_stored(vienna: Any) -> None:
    meter = MeterFactory(site=vienna)  # a Modbus meter: a float32 register can hold NaN
    for n, value in enumerate([float("nan"), float("inf"), 1e300, 229.0]):
        readings_store(candidates=[Candidate(meter=meter, source="modbus",
                                             time=RECEIVED.replace(minute=n),
                                             values={"voltage_a": value})],
                       received_at=RECEIVED)
    assert [r.values["voltage_a"] for r in Reading.objects.all()] == [229.0]
    assert DeadLetter.objects.filter(kind=DeadLetterKind.MALFORMED).count() == 3
