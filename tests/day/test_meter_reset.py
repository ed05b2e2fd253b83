"""A meter reset through the simulator's control channel, seen through real polls: its readings
are refused, it is not Online, its page shows why; an operator accepts a new baseline and the
refused readings are stored, and later polls record again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kpm37.profile import load_profile
from kpm37.simulator import ctl
from kpm37.simulator.control import ControlServer, controlled_meters
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter
from meters.alarms.models import Alarm
from meters.choices import MeterStatus
from meters.telemetry.models import CounterBaseline, LatestState, Reading, RefusedReading
from meters.telemetry.polling import gateway_poll
from tests.factories import GatewayFactory, MeterFactory, SiteFactory
from tests.telemetry.background import LoopThread

pytestmark = pytest.mark.django_db
CODE = "3071025100005"


@pytest.fixture
def rig(db: None) -> Iterator[dict[str, Any]]:
    loop = LoopThread()
    sim = SimMeter(load_profile("kpm37"), code=CODE, address=5, seed=5)
    host, port, gateway_sim = loop.run(start_gateway([sim], baud=38400))
    control = ControlServer(controlled_meters([gateway_sim], []))
    _, control_port = loop.run(control.start())
    gateway = GatewayFactory(host=host, port=port, timeout_ms=400, frame_gap_ms=20)
    meter = MeterFactory(code=CODE, gateway=gateway, address=5, poll_interval_s=60,
                         site=SiteFactory(timezone="Europe/Vienna"))
    yield {"meter": meter, "gateway": gateway, "control_port": control_port}
    loop.run(control.stop())
    loop.run(gateway_sim.stop())
    loop.close()


def _poll(rig: dict[str, Any], minutes: int) -> None:
    report = gateway_poll(gateway_id=rig["gateway"].pk,
                          now=timezone.now() + timedelta(minutes=minutes))
    assert report.claimed and not report.failed


def test_reset_is_refused_then_accepted_and_records_again(rig: dict[str, Any], operator: Any,
                                                          client_as: Any) -> None:
    meter = rig["meter"]
    _poll(rig, 0)
    before = LatestState.objects.get(meter=meter).values["import_active_energy"]["value"]
    assert before > 0
    assert ctl.main(["--port", str(rig["control_port"]), CODE, "reset-energy"]) == 0
    _poll(rig, 2)
    _poll(rig, 4)
    meter.refresh_from_db()
    assert meter.status == MeterStatus.DATA_REFUSED
    assert Reading.objects.filter(meter=meter).count() == 1
    assert RefusedReading.objects.filter(meter=meter).count() == 2
    client = client_as(operator)
    page = client.get(f"/meters/{meter.pk}/").content.decode()
    assert "Data refused" in page and 'id="data-refused"' in page
    assert "2 readings since" in page and "Energy counter went backwards" in page
    assert "import_active_energy" not in page

    answer = client.post(f"/telemetry/meters/{meter.pk}/accept-baseline/",
                         {"reason": "energy cleared on site"}, follow=True)
    assert "2 refused readings stored" in answer.content.decode()
    baseline = CounterBaseline.objects.get(meter=meter)
    assert baseline.accepted_by == operator and baseline.reason == "energy cleared on site"
    assert baseline.old_values["import_active_energy"] == pytest.approx(before)
    assert baseline.new_values["import_active_energy"] < before
    assert Reading.objects.filter(meter=meter).count() == 3
    assert not RefusedReading.objects.filter(meter=meter).exists()
    assert not Alarm.objects.filter(meter=meter, kind="counter-backwards",
                                    cleared_at__isnull=True).exists()
    _poll(rig, 6)
    meter.refresh_from_db()
    assert meter.status == MeterStatus.ONLINE
    assert Reading.objects.filter(meter=meter).count() == 4
    page = client.get(f"/meters/{meter.pk}/").content.decode()
    assert 'id="data-refused"' not in page and "energy cleared on site" in page


def test_api_accepts_a_baseline_and_refuses_one_without_reason(rig: dict[str, Any],
                                                               operator: Any, billing_clerk: Any,
                                                               api_client_as: Any) -> None:
    meter = rig["meter"]
    url = f"/api/meters/{meter.pk}/baselines/"
    api = api_client_as(operator)
    nothing = api.post(url, {"reason": "exchange"}, format="json")
    assert nothing.status_code == 400 and "no refused readings" in str(nothing.json()["meter"])
    _poll(rig, 0)
    ctl.main(["--port", str(rig["control_port"]), CODE, "reset-energy"])
    _poll(rig, 2)
    assert api.post(url, {"reason": "  "}, format="json").status_code == 400
    assert api_client_as(billing_clerk).post(url, {"reason": "x"}, format="json").status_code == 403
    made = api.post(url, {"reason": "meter exchanged"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["readings_restored"] == 1 and made.json()["accepted_by"] == "operator"
    assert api.get(url).json()["results"][0]["reason"] == "meter exchanged"


def test_poll_failures_show_on_meter_and_gateway_pages(rig: dict[str, Any], operator: Any,
                                                       client_as: Any) -> None:
    silent = MeterFactory(gateway=rig["gateway"], address=9, poll_interval_s=60,
                          site=rig["meter"].site)  # nothing answers at address 9
    report = gateway_poll(gateway_id=rig["gateway"].pk, now=timezone.now())
    assert [r.address for r in report.failed] == [9]
    silent.refresh_from_db()
    assert silent.status == MeterStatus.NEVER_SEEN
    client = client_as(operator)
    page = client.get(f"/meters/{silent.pk}/").content.decode()
    assert 'id="poll-failing"' in page and "1 poll in a row failed" in page
    assert "DeviceTimeout" in page
    gateway_page = client.get(f"/gateways/{rig['gateway'].pk}/").content.decode()
    assert "1 failed in a row" in gateway_page and "DeviceTimeout" in gateway_page
    assert 'id="poll-runs"' in gateway_page and "CET" in gateway_page
    assert f"<title>{rig['gateway'].name} · KPM Fleet</title>" in gateway_page
