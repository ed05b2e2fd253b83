"""The jobs API: submit reads and writes, roles, validation naming the value, filters."""

from __future__ import annotations

import pytest

from meters.jobs.choices import JobState
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from tests.factories import MeterFactory
from tests.jobs.conftest import SimBus


def test_operator_writes_through_the_api_and_follows_the_job(bus: SimBus, operator,
                                                             api_client_as) -> None:
    api = api_client_as(operator)
    meter = bus.meters[3]
    answer = api.post(f"/api/meters/{meter.pk}/write/",
                      {"values": {"ct_ratio": 200}, "reason": "CT 1000/5"}, format="json")
    assert answer.status_code == 201, answer.content
    job = answer.json()
    assert job["state"] == "queued" and job["kind"] == "write" and job["requested_by"] == "operator"
    assert job["payload"] == {"values": {"ct_ratio": 200}} and job["reason"] == "CT 1000/5"

    bus.run_jobs()
    done = api.get(f"/api/jobs/{job['id']}/").json()
    assert done["state"] == "verified" and done["result"]["values"]["ct_ratio"] == 200
    assert done["evidence_sha256"] and done["gateway"] == bus.gateway.name

    read = api.post(f"/api/meters/{meter.pk}/read/", {"names": ["ct_ratio"]}, format="json")
    assert read.status_code == 201 and read.json()["payload"] == {"names": ["ct_ratio"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"values": {"ct_ratio": 99999}, "reason": "x"}, "values.ct_ratio"),
    ({"values": {"wiring_mode": 7}, "reason": "x"}, "values.wiring_mode"),
    ({"values": {"serial_number": "X"}, "reason": "x"}, "values.serial_number"),
    ({"values": {"ct_ratio": {"deep": [1]}}, "reason": "x"}, "values.ct_ratio"),
    ({"values": {"ct_ratio": 10}}, "reason"),
    ({"values": [], "reason": "x"}, "values"),
    ({"reason": "x"}, "values"),
])
def test_bad_writes_get_a_400_naming_the_value_and_create_nothing(
        bus: SimBus, operator, api_client_as, body, field) -> None:
    answer = api_client_as(operator).post(f"/api/meters/{bus.meters[3].pk}/write/", body,
                                          format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert not MeterJob.objects.exists()


def test_billing_clerks_and_tenant_viewers_may_not_act_on_meters(
        bus: SimBus, billing_clerk, tenant_viewer, tenant, outsider, api_client_as) -> None:
    meter = bus.meters[3]
    meter.tenant = tenant
    meter.save()
    for user in (billing_clerk, tenant_viewer, outsider):
        api = api_client_as(user)
        for path, body in (("write", {"values": {"ct_ratio": 5}, "reason": "x"}),
                           ("read", {"names": ["ct_ratio"]})):
            answer = api.post(f"/api/meters/{meter.pk}/{path}/", body, format="json")
            assert answer.status_code == 403, (user.username, path, answer.status_code)
    assert not MeterJob.objects.exists()
    # ... but they see the jobs of the meters they may see.
    job = job_submit(meter=meter, kind="read", payload={"names": ["ct_ratio"]})
    assert api_client_as(tenant_viewer).get(f"/api/jobs/{job.pk}/").status_code == 200
    assert api_client_as(outsider).get("/api/jobs/").status_code == 403


def test_a_meter_the_user_cannot_see_is_a_404(db, operator, tenant_viewer, api_client_as) -> None:
    hidden = MeterFactory()
    job = job_submit(meter=hidden, kind="read", payload={"names": ["ct_ratio"]})
    assert api_client_as(tenant_viewer).get(f"/api/jobs/{job.pk}/").status_code == 404
    answer = api_client_as(operator).post("/api/meters/999999/read/", {}, format="json")
    assert answer.status_code == 404


def test_jobs_filter_by_meter_code_gateway_kind_and_state(bus: SimBus, admin,
                                                           api_client_as) -> None:
    other = MeterFactory()
    job_submit(meter=bus.meters[3], kind="read", payload={"names": ["ct_ratio"]})
    job_submit(meter=bus.meters[7], kind="write", payload={"values": {"billing_day": 2}})
    job_submit(meter=other, kind="read", payload={"names": ["ct_ratio"]})
    api = api_client_as(admin)

    def codes(query: str) -> list[str]:
        answer = api.get(f"/api/jobs/?{query}")
        assert answer.status_code == 200, answer.content
        return sorted(j["meter_code"] for j in answer.json()["results"])

    assert codes(f"meter={bus.meters[3].code}") == [bus.meters[3].code]
    assert codes(f"gateway={bus.gateway.name}") == sorted([bus.meters[3].code,
                                                           bus.meters[7].code])
    assert codes("kind=write") == [bus.meters[7].code]
    assert len(codes("state=queued")) == 3 and codes("state=verified") == []
    assert api.get("/api/jobs/?state=bogus").status_code == 400


def test_any_kind_through_the_generic_route_and_cancel(bus: SimBus, operator,
                                                       api_client_as) -> None:
    api = api_client_as(operator)
    answer = api.post(f"/api/meters/{bus.meters[3].pk}/jobs/",
                      {"kind": "relay", "payload": {"output": 3, "action": "close"},
                       "reason": "x"}, format="json")
    assert answer.status_code == 400 and "output" in answer.json()
    answer = api.post(f"/api/meters/{bus.meters[3].pk}/jobs/",
                      {"kind": "set_clock", "reason": "DST"}, format="json")
    assert answer.status_code == 201
    cancelled = api.post(f"/api/jobs/{answer.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == JobState.CANCELLED
    assert api.post(f"/api/jobs/{answer.json()['id']}/cancel/").status_code == 400
