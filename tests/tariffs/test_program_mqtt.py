"""Programming a plan into a simulated MQTT meter (V1.9 SYS_CFG / SYS_READ in chunks of at most
100 values, SETTIME) as a meter job, through Mosquitto; then the meter bills its energy to
the rates the plan predicts after the switch-over."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from kpm37.profile import load_profile
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.mqtt_meter import serve_mqtt_meters
from meters.choices import TransportKind
from meters.jobs.choices import JobState
from meters.jobs.mqtt_runner import mqtt_job_run
from tariffs import services
from tariffs.document import parse_plan
from tariffs.tou_status import meter_tou_status
from tests.factories import MeterFactory, SiteFactory, meter_code
from tests.services import mosquitto_url
from tests.tariffs.energy import bill_one_day
from tests.tariffs.test_program_modbus import summer_from_2027
from tests.telemetry.background import LoopThread

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def mqtt_meter(settings: Any) -> Iterator[tuple[Any, Any]]:
    """A simulated KPM37 on Mosquitto, its clock an hour off, and its inventory row."""
    settings.MQTT_URL = mosquitto_url()
    # A random serial: V1.9 topic names are shared by every meter on the broker.
    sim = SimMeter(load_profile("kpm37"), address=1,
                   code=meter_code(random.randrange(9000), communication="2"))
    sim.clock.set_local(datetime(2026, 1, 1, 0, 0))
    loop = LoopThread()
    serving = loop.spawn(serve_mqtt_meters([sim], settings.MQTT_URL, interval_override_s=3600))
    meter = MeterFactory(code=sim.code, transport=TransportKind.MQTT, gateway=None,
                         address=None, site=SiteFactory(name="Shenzhen",
                                                        timezone="Asia/Shanghai"))
    yield sim, meter
    serving.cancel()
    loop.close()


def test_programming_over_mqtt_bills_to_the_plans_rates(mqtt_meter: tuple[Any, Any],
                                                        guangdong: dict[str, Any]) -> None:
    sim, meter = mqtt_meter
    version = services.tariff_plan_create(document=parse_plan(summer_from_2027(guangdong))
                                          .document)
    services.tariff_plan_assign(plan=version.plan, meters=[meter], labels=[])
    job = services.tariff_program_meter(meter=meter, reason="test over MQTT")
    assert mqtt_job_run(job_id=job.pk) == JobState.VERIFIED
    job.refresh_from_db()
    assert any("clock was 2026-01-01" in step for step in job.result["steps"])
    exchanges = job.evidence["exchanges"]
    writes = [json.loads(e["payload"]) for e in exchanges
              if e["topic"].startswith("MQTT_SYS_CFG_")]
    assert len(writes) >= 4  # both sets (378 words each) in chunks, then the switch-overs
    assert all(len(w["value"].split(";")) <= 100 for w in writes)
    assert any(e["topic"].startswith("MQTT_SETTIME_") for e in exchanges)
    states = meter_tou_status(meter)["sets"]
    assert [(s.state, s.when) for s in states] == [
        ("in-sync", None), ("pending", datetime(2027, 7, 1))]

    assert bill_one_day(sim, datetime(2027, 6, 30)) == pytest.approx(
        {3: 24.0}, abs=0.01)
    assert bill_one_day(sim, datetime(2027, 7, 1)) == pytest.approx(
        {1: 3.0, 2: 4.0, 3: 9.0, 4: 8.0}, abs=0.01)
