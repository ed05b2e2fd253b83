"""The readings table becomes partitioned by month of ``time`` on PostgreSQL (see
meters/telemetry/partitions.py for why). SQLite keeps the plain table.

Self-contained (a migration must not follow later changes of the app's code): the new table is
created LIKE the old one (every column, default, identity and check, whatever earlier
migrations of other branches added), with a default partition and month partitions from the
oldest data (at most 36 months back; older rows land in the default partition) to 3 months
ahead; the rows are copied, the old table dropped, and its unique constraints, foreign keys and
indexes re-created under their own names. The primary key becomes (id, time): PostgreSQL
requires the partition key in every unique index; ids still come from one identity sequence.
Reversing leaves the table partitioned, which the model works with just as well.
"""

from datetime import UTC, date, datetime

from django.db import migrations

TABLE = "telemetry_reading"
OLD = "telemetry_reading_old"
BACK, AHEAD = 36, 3


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _bounds(month: date) -> tuple[datetime, datetime]:
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (datetime(month.year, month.month, 1, tzinfo=UTC),
            datetime(end.year, end.month, 1, tzinfo=UTC))


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    cursor = schema_editor.connection.cursor()
    cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')", [TABLE])
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                   "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                   "WHERE conrelid = %s::regclass)", [TABLE, TABLE])
    indexes = cursor.fetchall()
    cursor.execute("SELECT min(time), max(time) FROM telemetry_reading")
    oldest, _ = cursor.fetchone()
    today = datetime.now(UTC).date()
    first = max(oldest.date(), _shift(today, -BACK)) if oldest else _shift(today, -1)
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    cursor.execute(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY "
                   "INCLUDING CONSTRAINTS INCLUDING GENERATED) PARTITION BY RANGE (time)")
    cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    for month in _months(first, _shift(today, AHEAD)):
        start, end = _bounds(month)
        cursor.execute(f"CREATE TABLE {TABLE}_y{month.year:04d}m{month.month:02d} PARTITION OF "
                       f"{TABLE} FOR VALUES FROM (%s) TO (%s)", [start, end])
    cursor.execute(f"INSERT INTO {TABLE} OVERRIDING SYSTEM VALUE SELECT * FROM {OLD}")
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
                   f"COALESCE(max(id), 0) + 1, false) FROM {TABLE}")
    cursor.execute(f"DROP TABLE {OLD}")
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, time)")
    for name, _kind, definition in constraints:
        cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:  # read before the rename: they name the new table
        cursor.execute(definition)


class Migration(migrations.Migration):

    dependencies = [
        ("telemetry", "0006_merge_hostile_input_and_baselines"),
    ]

    operations = [
        migrations.RunPython(partition, migrations.RunPython.noop),
    ]
