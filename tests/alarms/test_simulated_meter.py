"""Done-when: a simulated MQTT meter's over-voltage is raised and acknowledged; when it goes
silent it turns offline within the configured time, and clears when it speaks again."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from kpm37.profile import load_profile
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.mqtt_meter import MqttMeterSession
from meters.alarms.choices import AlarmKind, AlarmState
from meters.alarms.models import Alarm
from meters.choices import MeterStatus
from meters.telemetry.tasks import mark_offline_meters
from tests.factories import MeterFactory
from tests.services import require_postgres
from tests.telemetry.background import LoopThread, wait_until
from tests.telemetry.ingest_process import IngestProcess


def open_alarm(meter: Any, kind: str) -> Alarm | None:
    return Alarm.objects.filter(meter=meter, kind=kind).exclude(state=AlarmState.CLEARED).first()


@pytest.mark.django_db(transaction=True)
def test_over_voltage_then_silence_then_return(amqtt_url: str, vienna: Any, operator: Any,
                                               api_client_as: Any, settings: Any) -> None:
    require_postgres()  # the ingest subprocess shares the test database
    settings.TELEMETRY_OFFLINE_INTERVALS = 2
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None, poll_interval_s=1)
    sim = SimMeter(load_profile("kpm37"), code=meter.code, address=1, timezone="Europe/Vienna")
    sim.set_load(voltage=280.0, current=2.0)  # Un 220 V: over-voltage above 264 V
    loop = LoopThread()
    session = MqttMeterSession(sim, amqtt_url, interval_override_s=0.3)
    ingest = IngestProcess("--url", amqtt_url, "--client-id", f"t-{uuid.uuid4().hex[:8]}",
                           "--protocol", "3", "--batch-wait", "0.05")
    try:
        ingest.wait_for("connected to")
        loop.run(session.connect())
        running = loop.spawn(session.run())
        assert wait_until(lambda: open_alarm(meter, AlarmKind.OVER_VOLTAGE) is not None, 30), \
            ingest.lines
        alarm = open_alarm(meter, AlarmKind.OVER_VOLTAGE)
        response = api_client_as(operator).post(f"/api/alarms/{alarm.pk}/acknowledge/",
                                                {"comment": "crew sent"}, format="json")
        assert response.status_code == 200, response.content
        alarm.refresh_from_db()
        assert (alarm.state, alarm.acknowledged_by, alarm.ack_comment) == (
            AlarmState.ACKNOWLEDGED, operator, "crew sent")

        sim.faults.silent = True
        silent_at = time.monotonic()
        # Offline after 2 intervals of 1 s; the beat task runs every second here.
        assert wait_until(lambda: mark_offline_meters() == 1, 15)
        assert time.monotonic() - silent_at < 15
        meter.refresh_from_db()
        assert meter.status == MeterStatus.OFFLINE
        assert open_alarm(meter, AlarmKind.OFFLINE).state == AlarmState.ACTIVE

        sim.faults.silent = False
        assert wait_until(lambda: open_alarm(meter, AlarmKind.OFFLINE) is None, 20), ingest.lines
        meter.refresh_from_db()
        assert meter.status == MeterStatus.ONLINE
        assert Alarm.objects.get(meter=meter, kind=AlarmKind.OFFLINE).cleared_at is not None
    finally:
        ingest.stop()
        if 'running' in locals():
            running.cancel()
        loop.run(session.close())
        loop.close()
