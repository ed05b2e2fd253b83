"""Programming from the pages and the API: who may, what it queues, what the pages show."""

from __future__ import annotations

from typing import Any

import pytest

from meters.jobs.choices import JobState
from meters.jobs.models import MeterJob
from tariffs import services
from tariffs.document import parse_plan
from tests.factories import LabelFactory, MeterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(guangdong: dict[str, Any]) -> Any:
    return services.tariff_plan_create(document=parse_plan(guangdong).document).plan


def test_the_meter_page_shows_the_plan_and_an_operator_programs_it(
        client_as: Any, operator: Any, billing_clerk: Any, plan: Any) -> None:
    meter = MeterFactory()
    page = client_as(operator).get(f"/meters/{meter.pk}/").content.decode()
    assert f'hx-get="/tariffs/meters/{meter.pk}/tou/"' in page
    panel = client_as(operator).get(f"/tariffs/meters/{meter.pk}/tou/").content.decode()
    assert "No plan assigned." in panel
    services.tariff_plan_assign(plan=plan, meters=[meter], labels=[])
    panel = client_as(operator).get(f"/tariffs/meters/{meter.pk}/tou/").content.decode()
    assert "Guangdong industrial TOU (2021)" in panel and "never read back" in panel
    assert client_as(billing_clerk).post(f"/tariffs/meters/{meter.pk}/tou/").status_code == 403
    panel = client_as(operator).post(f"/tariffs/meters/{meter.pk}/tou/").content.decode()
    job = MeterJob.objects.get(meter=meter, kind="program_tou")
    assert job.state == JobState.QUEUED and job.payload["version_id"] == plan.latest.pk
    from meters.audit.models import AuditRecord

    record = AuditRecord.objects.get(kind="tariff.program")
    assert (record.meter_code, record.actor_name, record.after["job"]) == (
        meter.code, operator.username, job.pk)
    assert f"job {job.pk} queued" in panel
    client_as(operator).post(f"/tariffs/meters/{meter.pk}/tou/")  # same version: same job
    assert MeterJob.objects.filter(meter=meter, kind="program_tou").count() == 1


def test_the_api_programs_every_meter_of_a_plan(api_client_as: Any, operator: Any,
                                                billing_clerk: Any, plan: Any) -> None:
    label = LabelFactory(name="tower-c")
    meters = [MeterFactory(labels=[label]) for _ in range(3)]
    other = MeterFactory()
    services.tariff_plan_assign(plan=plan, meters=[], labels=[label])
    url = f"/api/tariffs/{plan.pk}/program/"
    assert api_client_as(billing_clerk).post(url, {}, format="json").status_code == 403
    refused = api_client_as(operator).post(url, {"meters": [other.pk]}, format="json")
    assert refused.status_code == 400 and "should not run this plan" in str(refused.json())
    answer = api_client_as(operator).post(url, {}, format="json")
    assert answer.status_code == 202
    assert sorted(j["meter"] for j in answer.json()["jobs"]) == sorted(m.code for m in meters)
    listed = api_client_as(operator).get(f"/api/tariffs/{plan.pk}/meters/").json()
    assert [row["sets"][0]["state"] for row in listed] == ["unknown"] * 3
    detail = api_client_as(operator).get(f"/api/meters/{meters[0].pk}/").json()
    assert detail["tariff"]["plan"] == plan.name and detail["tariff"]["job_state"] == "queued"


def test_the_fleet_page_counts_tou_states(client_as: Any, api_client_as: Any, operator: Any,
                                          plan: Any) -> None:
    meters = [MeterFactory() for _ in range(2)]
    MeterFactory()  # no plan: not counted
    services.tariff_plan_assign(plan=plan, meters=meters, labels=[])
    assert 'hx-get="/tariffs/fleet-tou/"' in client_as(operator).get("/").content.decode()
    counts = client_as(operator).get("/tariffs/fleet-tou/").content.decode()
    assert "2 meters with a TOU plan" in counts
    assert 'data-state="unknown"><strong>2</strong>' in counts
    api = api_client_as(operator).get("/api/tariffs/fleet-status/").json()
    assert api == {"meters": 2, "counts": {"unknown": 2}, "capped": False}
