"""Nobody changes or deletes an audit record: not the model, not raw SQL, not the admin or API."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction

from meters.audit.models import AppendOnlyError, AuditRecord
from meters.audit.services import audit_record
from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(db: None) -> AuditRecord:
    return audit_record(kind="meter.update", obj=MeterFactory(), before={"ct_ratio": "1.0"},
                        after={"ct_ratio": "200.0"})


def test_model_and_queryset_refuse_changes_and_deletes(record: AuditRecord) -> None:
    record.detail = "rewritten"
    for attempt in (record.save, record.delete,
                    lambda: AuditRecord.objects.filter(pk=record.pk).update(detail="x"),
                    lambda: AuditRecord.objects.filter(pk=record.pk).delete(),
                    lambda: AuditRecord.objects.bulk_update([record], ["detail"])):
        with pytest.raises(AppendOnlyError):
            attempt()
    assert AuditRecord.objects.get(pk=record.pk).detail == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize("sql", ["UPDATE audit_auditrecord SET detail = 'x' WHERE id = %s",
                                 "DELETE FROM audit_auditrecord WHERE id = %s"])
def test_postgresql_trigger_refuses_raw_update_and_delete(record: AuditRecord, sql: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql, [record.pk])
    assert AuditRecord.objects.filter(pk=record.pk, detail="").exists()


def test_only_a_view_permission_exists_to_be_granted(db: None) -> None:
    codenames = set(Permission.objects.filter(content_type__app_label="audit")
                    .values_list("codename", flat=True))
    assert codenames == {"view_auditrecord"}


def test_admin_is_read_only_even_for_a_superuser(record: AuditRecord, admin: Any,
                                                 client_as: Any) -> None:
    admin.is_superuser = True
    admin.save()
    client = client_as(admin)
    base = "/admin/audit/auditrecord/"
    assert client.get(base).status_code == 200
    page = client.get(f"{base}{record.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"{base}{record.pk}/change/", {"detail": "x"}).status_code == 403
    assert client.get(f"{base}{record.pk}/delete/").status_code == 403
    assert client.post(f"{base}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(base, {"action": "delete_selected",
                              "_selected_action": [record.pk]}).status_code in (200, 302)
    assert AuditRecord.objects.filter(pk=record.pk, detail="").exists()


def test_api_offers_no_write(record: AuditRecord, admin: Any, api_client_as: Any) -> None:
    api = api_client_as(admin)
    url = f"/api/audit/{record.pk}/"
    assert api.get(url).status_code == 200
    assert api.put(url, {"detail": "x"}, format="json").status_code == 405
    assert api.patch(url, {"detail": "x"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405
    assert api.post("/api/audit/", {"kind": "meter.update"}, format="json").status_code == 405
    assert AuditRecord.objects.filter(pk=record.pk, detail="").exists()


def test_deleting_the_user_or_meter_keeps_their_records(record: AuditRecord, operator: Any,
                                                        api_client_as: Any) -> None:
    """No foreign key blocks or cascades: the record keeps the names after the rows are gone."""
    acted = audit_record(kind="meter.update", obj=record.meter, actor=operator)
    code = record.meter_code
    record.meter.delete()
    operator.delete()
    kept = AuditRecord.objects.get(pk=acted.pk)
    assert (kept.actor_name, kept.meter_code) == ("operator", code)
