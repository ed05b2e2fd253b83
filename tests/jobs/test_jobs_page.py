"""The meter page's jobs panel: live while a job is pending, quiet after; the form, by role."""

from __future__ import annotations

from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from tests.jobs.conftest import SimBus


def test_the_panel_polls_while_a_job_is_pending_and_stops_after(bus: SimBus, operator,
                                                                 client_as) -> None:
    meter = bus.meters[3]
    client = client_as(operator)
    page = client.get(f"/meters/{meter.pk}/").content.decode()
    assert f"/jobs/meters/{meter.pk}/" in page

    job_submit(meter=meter, kind="write", payload={"values": {"ct_ratio": 60}},
               requested_by=operator, reason="new CT")
    panel = client.get(f"/jobs/meters/{meter.pk}/").content.decode()
    assert "every 2s" in panel and "Queued" in panel and "operator: new CT" in panel

    bus.run_jobs()
    panel = client.get(f"/jobs/meters/{meter.pk}/").content.decode()
    assert "Verified" in panel and "ct_ratio = 60" in panel
    assert "every 2s" not in panel  # nothing pending: no more polling


def test_operators_queue_jobs_from_the_page_with_errors_naming_the_value(
        bus: SimBus, operator, client_as) -> None:
    client = client_as(operator)
    url = f"/jobs/meters/{bus.meters[7].pk}/"
    bad = client.post(url, {"action": "write", "name": "ct_ratio", "value": "-3",
                            "reason": "test"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "values.ct_ratio" in bad.content.decode()
    assert "below the minimum" in bad.content.decode()
    no_reason = client.post(url, {"action": "write", "name": "ct_ratio", "value": "5"})
    assert no_reason.status_code == 400 and not MeterJob.objects.exists()

    good = client.post(url, {"action": "write", "name": "ct_ratio", "value": "5",
                             "reason": "CT 25/5"})
    assert good.status_code == 200 and "every 2s" in good.content.decode()
    assert MeterJob.objects.get().payload == {"values": {"ct_ratio": 5}}


def test_billing_clerks_and_tenant_viewers_see_jobs_but_get_no_form_and_403(
        bus: SimBus, billing_clerk, tenant_viewer, tenant, client_as) -> None:
    meter = bus.meters[3]
    meter.tenant = tenant
    meter.save()
    job_submit(meter=meter, kind="read", payload={"names": ["ct_ratio"]})
    for user in (billing_clerk, tenant_viewer):
        client = client_as(user)
        panel = client.get(f"/jobs/meters/{meter.pk}/")
        assert panel.status_code == 200 and "Queue job" not in panel.content.decode()
        answer = client.post(f"/jobs/meters/{meter.pk}/", {"action": "read"})
        assert answer.status_code == 403
    assert MeterJob.objects.count() == 1
