"""The audit page, its CSV export and /api/audit/: filters, and who reads which records."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from meters.audit.context import Source, audit_source
from meters.audit.models import AuditRecord
from meters.audit.services import audit_record
from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(admin: Any, operator: Any) -> dict[str, Any]:
    """A meter change by the operator, an alarm ack, a user change and a tariff change."""
    meter, other = MeterFactory(), MeterFactory()
    web = Source(via="page", ip="192.0.2.1", user_agent="=HYPERLINK(\"http://evil\")")
    with audit_source(web):
        rows = {
            "meter": audit_record(kind="meter.update", obj=meter, actor=operator,
                                  before={"ct_ratio": "1.0"}, after={"ct_ratio": "100.0"}),
            "alarm": audit_record(kind="alarm.acknowledge", meter=other, actor=operator,
                                  object_repr="Over-voltage"),
            "user": audit_record(kind="user.update", obj=operator, actor=admin,
                                 before={"is_staff": False}, after={"is_staff": True}),
            "tariff": audit_record(kind="tariff.update", actor=admin, object_type="tariff",
                                   object_repr="Summer plan"),
        }
    return {"the_meter": meter, "other": other, **rows}


def ids(answer: Any) -> set[int]:
    return {row["id"] for row in answer.json()["results"]}


def test_each_role_reads_its_share(trail: dict[str, Any], admin: Any, operator: Any,
                                   billing_clerk: Any, tenant_viewer: Any, outsider: Any,
                                   api_client_as: Any, client_as: Any) -> None:
    theirs = {name: row.pk for name, row in trail.items() if isinstance(row, AuditRecord)}
    assert ids(api_client_as(admin).get("/api/audit/?page_size=500")) >= set(theirs.values())
    seen_by_operator = ids(api_client_as(operator).get("/api/audit/"))
    assert {theirs["meter"], theirs["alarm"], theirs["tariff"]} <= seen_by_operator
    assert theirs["user"] not in seen_by_operator
    assert not AuditRecord.objects.filter(pk__in=seen_by_operator, area="user").exists()
    seen_by_billing = ids(api_client_as(billing_clerk).get("/api/audit/"))
    assert {theirs["meter"], theirs["tariff"]} <= seen_by_billing
    assert not {theirs["alarm"], theirs["user"]} & seen_by_billing
    for refused in (tenant_viewer, outsider):
        assert api_client_as(refused).get("/api/audit/").status_code == 403
        assert api_client_as(refused).get("/api/audit/export/").status_code == 403
        assert client_as(refused).get("/audit/").status_code == 403
        assert client_as(refused).get("/audit/export.csv").status_code == 403
    assert api_client_as(operator).get(f"/api/audit/{theirs['user']}/").status_code == 404


def test_filters_by_meter_user_kind_and_time(trail: dict[str, Any], admin: Any,
                                             api_client_as: Any) -> None:
    api = api_client_as(admin)
    meter = trail["the_meter"]
    assert ids(api.get(f"/api/audit/?meter={meter.code.lower()}")) == {trail["meter"].pk}
    assert ids(api.get(f"/api/audit/?meter_id={meter.pk}")) == {trail["meter"].pk}
    assert ids(api.get("/api/audit/?user=OPERATOR&kind=alarm.acknowledge")) == {
        trail["alarm"].pk}
    assert ids(api.get("/api/audit/?area=tariff")) == {trail["tariff"].pk}
    now = timezone.now()
    later = (now + timedelta(minutes=5)).isoformat()
    earlier = (now - timedelta(minutes=5)).isoformat()
    assert ids(api.get("/api/audit/", {"since": later})) == set()
    assert trail["user"].pk in ids(api.get("/api/audit/", {"since": earlier, "until": later}))
    bad = api.get("/api/audit/?since=yesterday-ish")
    assert bad.status_code == 400 and "since" in bad.json()
    assert api.get("/api/audit/?kind=no.such").status_code == 400


def test_page_shows_filters_and_before_after(trail: dict[str, Any], operator: Any,
                                             client_as: Any) -> None:
    client = client_as(operator)
    page = client.get(f"/audit/?meter={trail['the_meter'].code}").content.decode()
    assert trail["the_meter"].code in page and "Meter changed" in page
    assert "<del>1.0</del>" in page and "100.0" in page
    assert "Over-voltage" not in page  # the other meter's record is filtered out
    assert "<dt>is_staff</dt>" not in client.get("/audit/").content.decode()
    fragment = client.get("/audit/?kind=alarm.acknowledge", HTTP_HX_REQUEST="true")
    assert b'id="audit-table"' in fragment.content and b"<html" not in fragment.content
    detail = client.get(f"/meters/{trail['the_meter'].pk}/").content.decode()
    assert f'href="/audit/?meter={trail["the_meter"].code}"' in detail
    bad = client.get("/audit/?since=not-a-time")
    assert bad.status_code == 200 and b"errorlist" in bad.content


@pytest.mark.parametrize("url", ["/audit/export.csv", "/api/audit/export/"])
def test_csv_export_is_streamed_filtered_and_safe_in_a_spreadsheet(
        trail: dict[str, Any], admin: Any, client_as: Any, url: str) -> None:
    answer = client_as(admin).get(url, {"user": "operator"})
    assert answer.status_code == 200 and isinstance(answer, StreamingHttpResponse)
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert {row["kind"] for row in rows} == {"meter.update", "alarm.acknowledge"}
    changed = next(row for row in rows if row["kind"] == "meter.update")
    assert changed["meter"] == trail["the_meter"].code and changed["ip"] == "192.0.2.1"
    assert changed["after"] == '{"ct_ratio": "100.0"}'
    assert changed["user_agent"].startswith("'=")  # not a formula in a spreadsheet
    bad = client_as(admin).get(url, {"since": "soon"})
    assert bad.status_code == 400
