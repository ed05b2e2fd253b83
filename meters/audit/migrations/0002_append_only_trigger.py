"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit records from any client.

The model already refuses both; this guards against raw SQL, a shell, or a bug elsewhere. It
does not stop the database owner (who can drop the trigger) nor TRUNCATE (the test runner
empties tables that way); keep the trail's database role without those rights in production.
On SQLite (the demo) the model's guard is the only one.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_record_append_only
    BEFORE UPDATE OR DELETE ON audit_auditrecord
    FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_auditrecord;
DROP FUNCTION IF EXISTS audit_record_append_only();
"""


def _on_postgres(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_audit_record"),
    ]

    operations = [
        migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP)),
    ]
