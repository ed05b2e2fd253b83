"""Meter jobs on MQTT meters over Mosquitto: V1.9 commands, replies matched by oprid, expiry."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from kpm37.metercode import make_meter_code
from kpm37.mqtt.topics import is_valid_oprid
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.mqtt_meter import MqttMeterSession
from meters.jobs.choices import JobState
from meters.jobs.lifecycle import jobs_sweep
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit
from meters.jobs.tasks import run_mqtt_job
from tests.factories import MeterFactory
from tests.kpm37.mqtt_helpers import PROFILE
from tests.services import mosquitto_url
from tests.telemetry.background import LoopThread

pytestmark = pytest.mark.services


@pytest.fixture
def mqtt_meter(db: None, settings: Any) -> Iterator[tuple[Any, Any]]:
    """A simulated KPM37 on Mosquitto and its inventory row (an MQTT meter)."""
    url = mosquitto_url()
    settings.MQTT_URL = url
    settings.JOBS_MQTT_REPLY_TIMEOUT_S = 3
    loop = LoopThread()
    code = make_meter_code(communication="2", year=26, month=3, serial=random.randrange(1, 9999))
    sim = SimMeter(PROFILE, code=code, address=1)  # a unique serial: the broker is shared
    for relay in ("do1", "do2"):
        sim.set_parameter(f"{relay}_output_mode", 0)
    session = MqttMeterSession(sim, url, interval_override_s=3600)
    loop.run(session.connect())
    task = loop.spawn(session.run())
    row = MeterFactory(mqtt=True, code=sim.code)
    yield sim, row
    task.cancel()
    loop.run(asyncio.sleep(0.05))
    loop.run(session.close())
    loop.close()


def _run(job: MeterJob) -> MeterJob:
    run_mqtt_job(job.pk)
    job.refresh_from_db()
    return job


def test_write_over_sys_cfg_is_verified_by_sys_read(mqtt_meter: tuple[Any, Any]) -> None:
    sim, row = mqtt_meter
    job = _run(job_submit(meter=row, kind="write", payload={"values": {"ct_ratio": 75}},
                          reason="CT"))
    assert job.state == JobState.VERIFIED, job.failure
    assert sim.parameter("ct_ratio") == pytest.approx(75)
    sent = job.evidence["exchanges"]
    assert {e["topic"].rsplit("_", 1)[0] for e in sent} >= {"MQTT_SYS_CFG", "MQTT_SYS_READ"}
    for exchange in sent:  # every command carried a 32-character oprid, echoed by its reply
        oprid = json.loads(exchange["payload"])["oprid"]
        assert is_valid_oprid(oprid) and len(oprid) == 32
        assert exchange["replies"] and all(oprid in r["payload"] for r in exchange["replies"])
    assert job.transport == "mqtt" and job.evidence_sha256


def test_relay_clock_and_upload_interval_commands(mqtt_meter: tuple[Any, Any]) -> None:
    sim, row = mqtt_meter
    relay = _run(job_submit(meter=row, kind="relay", payload={"output": 2, "action": "close"}))
    assert relay.state == JobState.VERIFIED, relay.failure
    assert sim.relay("do2")
    assert any("MQTT_TELECTRL" in e["topic"] for e in relay.evidence["exchanges"])

    clock = _run(job_submit(meter=row, kind="set_clock", payload={"time": "2026-05-01T10:00:00"}))
    assert clock.state == JobState.VERIFIED, clock.failure
    assert clock.meter_clock.startswith("2026-05-01T10:0")
    assert any("MQTT_SETTIME" in e["topic"] for e in clock.evidence["exchanges"])

    interval = _run(job_submit(meter=row, kind="upload_interval",
                               payload={"level": "minute", "value": 15}))
    assert interval.state == JobState.VERIFIED, interval.failure
    assert interval.result["values"] == {"minute_interval": 15}


def test_a_job_for_a_silent_meter_waits_then_expires_visibly(mqtt_meter: tuple[Any, Any]) -> None:
    sim, row = mqtt_meter
    sim.faults.silent = True
    job = _run(job_submit(meter=row, kind="read", payload={"names": ["ct_ratio"]}))
    assert job.state == JobState.QUEUED and "timed out" in job.last_error
    assert job.check_before_resend  # the command went out; the meter may have acted on it

    jobs_sweep(now=job.expires_at + timedelta(seconds=1))
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and "without an answer" in job.failure


def test_billing_history_over_recall_reports_the_meters_own_refusal(
        mqtt_meter: tuple[Any, Any]) -> None:
    _sim, row = mqtt_meter  # a brand-new simulated meter has frozen no month yet
    job = _run(job_submit(meter=row, kind="read_billing", payload={"months": [1]}))
    assert job.state == JobState.FAILED
    assert "MQTT_RECALL_REP: meter answered code 02: no frozen data for" in job.failure
    [recall] = [e for e in job.evidence["exchanges"] if "MQTT_RECALL" in e["topic"]]
    assert recall["replies"] and '"code":"02"' in recall["replies"][0]["payload"]


def test_a_job_for_an_offline_meter_waits_without_sending(mqtt_meter: tuple[Any, Any]) -> None:
    _sim, row = mqtt_meter
    row.status = "offline"
    row.save()
    job = _run(job_submit(meter=row, kind="relay", payload={"output": 1, "action": "open"}))
    assert job.state == JobState.QUEUED and job.attempts == 0 and not job.evidence
    assert "meter offline" in job.last_error and job.not_before > job.created_at

    jobs_sweep(now=job.expires_at + timedelta(seconds=1))
    job.refresh_from_db()
    assert job.state == JobState.EXPIRED and "meter offline" in job.failure
