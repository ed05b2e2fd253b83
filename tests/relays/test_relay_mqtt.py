"""Relay commands to MQTT meters (V1.9 TELECTRL) through Mosquitto: a simulated meter switches
and reads back; an offline meter's command waits, then expires visibly and is audited."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from kpm37.simulator.meter import SimMeter
from kpm37.simulator.mqtt_meter import MqttMeterSession
from meters.audit.models import AuditRecord
from meters.jobs.lifecycle import jobs_sweep
from meters.jobs.models import MeterJob
from meters.jobs.mqtt_runner import mqtt_job_run
from meters.relays.outcomes import relay_outcomes_record
from tests.factories import MeterFactory, meter_code
from tests.kpm37.mqtt_helpers import PROFILE
from tests.services import mosquitto_url
from tests.telemetry.background import LoopThread

pytestmark = pytest.mark.services


@pytest.fixture
def mqtt_settings(settings: Any) -> Any:
    settings.MQTT_URL = mosquitto_url()
    settings.JOBS_MQTT_REPLY_TIMEOUT_S = 2
    return settings


@pytest.fixture
def online_meter(db: None, mqtt_settings: Any) -> Iterator[tuple[Any, Any]]:
    """A simulated WiFi meter connected to Mosquitto, and its inventory row."""
    # A code of its own (random serial), so runs sharing the broker never answer each other.
    sim = SimMeter(PROFILE, code=meter_code(random.randrange(9000), communication="2"),
                   address=1)
    for relay in ("do1", "do2"):
        sim.set_parameter(f"{relay}_output_mode", 0)  # level: close and open latch
    loop = LoopThread()
    session = MqttMeterSession(sim, mqtt_settings.MQTT_URL, interval_override_s=3600)
    loop.run(session.connect())
    running = loop.spawn(session.run())
    yield sim, MeterFactory(mqtt=True, code=sim.code)
    running.cancel()
    loop.run(session.close())
    loop.close()


def post(user: Any, meter: Any, **body: Any) -> Any:
    api = APIClient()
    api.force_authenticate(user)
    return api.post(f"/api/meters/{meter.pk}/relay/",
                    {"output": 1, "reason": "scheduled disconnection", **body}, format="json")


def test_telectrl_closes_and_opens_a_simulated_meters_relay(online_meter: tuple[Any, Any],
                                                           operator: Any) -> None:
    sim, meter = online_meter
    for action, closed in (("close", True), ("open", False)):
        answer = post(operator, meter, action=action)
        assert answer.status_code == 201, answer.content
        assert mqtt_job_run(job_id=answer.json()["id"]) == "verified"
        assert sim.relay("do1") is closed
    job = MeterJob.objects.filter(kind="relay").latest("id")
    topics = [e.get("topic", "") for e in job.evidence["exchanges"]]
    assert any("TELECTRL" in topic for topic in topics), topics
    relay_outcomes_record()
    assert list(AuditRecord.objects.filter(kind="relay.result").values_list(
        "result", flat=True)) == ["ok", "ok"]


def test_command_to_an_offline_meter_waits_then_expires_visibly(
        db: None, mqtt_settings: Any, operator: Any, client_as: Any) -> None:
    # Nobody answers for this code (random, so no other test's simulated meter has it).
    meter = MeterFactory(mqtt=True, code=meter_code(random.randrange(9000), communication="2"))
    answer = post(operator, meter, action="open")
    assert answer.status_code == 201
    job = MeterJob.objects.get(pk=answer.json()["id"])
    assert mqtt_job_run(job_id=job.pk) == "queued"  # no reply: it waits and tries again
    job.refresh_from_db()
    assert job.state == "queued" and "time" in job.last_error.lower()
    jobs_sweep(now=job.expires_at + timedelta(seconds=1))
    command = APIClient()
    command.force_authenticate(operator)
    shown = command.get(f"/api/meters/{meter.pk}/relay/").json()["commands"][0]
    assert shown["state"] == "expired"
    panel = client_as(operator).get(f"/relays/meters/{meter.pk}/").content.decode()
    assert 'data-state="expired"' in panel
    relay_outcomes_record()
    outcome = AuditRecord.objects.get(kind="relay.result")
    assert outcome.result == "expired" and outcome.meter_code == meter.code
