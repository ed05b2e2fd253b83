"""Garbage, truncated JSON and unknown meters never stop ingest (embedded 3.1.1 broker)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter
from tests.factories import MeterFactory
from tests.services import require_postgres
from tests.telemetry.background import wait_until
from tests.telemetry.ingest_process import IngestProcess


@pytest.mark.django_db(transaction=True)
def test_bad_payloads_land_in_dead_letters_and_ingest_keeps_running(
        amqtt_url: str, vienna: Any) -> None:
    require_postgres()  # the subprocess must share the test database
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    unknown = "3071225200042"
    ingest = IngestProcess("--url", amqtt_url, "--client-id", f"t-{uuid.uuid4().hex[:8]}",
                           "--protocol", "auto", "--batch-wait", "0.05")
    host, port = amqtt_url.removeprefix("mqtt://").split(":")
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    try:
        ingest.wait_for("connected to")
        assert any("MQTT 3.1.1" in line for line in ingest.lines)  # fell back from MQTT 5
        time.sleep(0.5)
        pub.connect(host, int(port))
        pub.loop_start()
        for body in (b"\x00\xffgarbage", b'{"id":"' + meter.code.encode() + b'","ua":2',
                     b'{"id":"' + unknown.encode() + b'","ua":230,"time":"20260301120000"}',
                     b'{"id":"' + meter.code.encode() + b'","ua":230,"ub":230,"uc":230,'
                     b'"time":"20260301120000","isend":"1"}'):
            pub.publish("MQTT_RT_DATA", body, qos=1).wait_for_publish(timeout=10)
        assert wait_until(lambda: Reading.objects.filter(meter=meter).exists(), 30), ingest.lines
        assert wait_until(lambda: DeadLetter.objects.count() == 3, 15), ingest.lines
        kinds = sorted(DeadLetter.objects.values_list("kind", flat=True))
        assert kinds == sorted([DeadLetterKind.MALFORMED, DeadLetterKind.MALFORMED,
                                DeadLetterKind.UNKNOWN_METER])
        garbage = DeadLetter.objects.get(payload=b"\x00\xffgarbage")
        assert garbage.reason.startswith("payload: not valid JSON")
        assert UnregisteredMeter.objects.get(code=unknown).message_count == 1
        assert ingest.proc.poll() is None  # still running
    finally:
        ingest.stop()
        pub.disconnect()
        pub.loop_stop()
