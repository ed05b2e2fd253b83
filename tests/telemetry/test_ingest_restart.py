"""Killing the ingest mid-stream loses no acknowledged message and duplicates none."""

from __future__ import annotations

import time
import uuid
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from meters.telemetry.models import DeadLetter, Reading
from tests.factories import MeterFactory
from tests.services import require_mosquitto, require_postgres
from tests.telemetry.background import wait_until
from tests.telemetry.ingest_process import IngestProcess

N = 300


def payload(code: str, n: int) -> bytes:
    minute, second = divmod(n, 60)
    return (f'{{"id":"{code}","ua":230.{n % 10},"ub":231,"uc":229,"ia":1,"ib":1,"ic":1,'
            f'"time":"20260301{(minute // 60):02d}{minute % 60:02d}{second:02d}",'
            f'"isend":"1"}}').encode()


def publisher(host: str, port: int) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect(host, port)
    client.loop_start()
    return client


def forget_session(host: str, port: int, client_id: str) -> None:
    """Connect once with clean start and expiry 0 so the broker drops the test session."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(host, port, clean_start=True, properties=props)
    client.loop_start()
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_stream_then_restart_gives_exactly_n_readings(vienna: Any) -> None:
    host, port = require_mosquitto()
    require_postgres()
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)

    def ours() -> Any:
        return Reading.objects.filter(meter=meter)

    tag = uuid.uuid4().hex[:10]
    args = ["--url", f"mqtt://{host}:{port}", "--client-id", f"test-ingest-{tag}",
            "--group", f"test-{tag}", "--protocol", "5", "--batch-size", "20",
            "--batch-wait", "0.05"]
    ingest = IngestProcess(*args)
    pub = publisher(host, port)
    try:
        ingest.wait_for("connected to")
        time.sleep(0.5)  # let the SUBACK land so the session holds the subscription
        sent = [pub.publish("MQTT_RT_DATA", payload(meter.code, n), qos=1) for n in range(N // 2)]
        assert wait_until(lambda: ours().count() >= N // 6, 30), ingest.lines
        ingest.kill()  # kill -9 mid-stream: some packets stored but unacked, some not stored
        assert ours().count() < N
        sent += [pub.publish("MQTT_RT_DATA", payload(meter.code, n), qos=1)
                 for n in range(N // 2, N)]
        for info in sent:
            info.wait_for_publish(timeout=30)
        ingest = IngestProcess(*args)
        assert wait_until(lambda: ours().count() >= N, 60), ingest.lines
        time.sleep(1.5)  # anything redelivered late must still not add a row
        assert ours().count() == N
        # The shared broker also carries other tests' simulated meters (unknown here): only
        # this meter's messages and malformed ones would be a fault of this ingest.
        assert not DeadLetter.objects.filter(meter_code=meter.code).exists()
    finally:
        ingest.stop()
        pub.disconnect()
        pub.loop_stop()
        forget_session(host, port, f"test-ingest-{tag}")
