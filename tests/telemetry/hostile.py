"""Helpers for issue 7's tests: hostile and genuine V1.9 payloads, a QoS 1 publisher, and the
real ``manage.py ingest_mqtt`` on a test's own Mosquitto."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.telemetry.ingest_process import IngestProcess


def local(tz: str, delta: timedelta = timedelta(0)) -> str:
    """The meter-local ``yyyyMMddHHmmss`` of now + ``delta`` in ``tz``, whole minutes."""
    now = datetime.now(ZoneInfo(tz)).replace(second=0, microsecond=0) + delta
    return now.strftime("%Y%m%d%H%M%S")


def body(code: str, time: str, **tags: object) -> bytes:
    """A one-packet V1.9 message."""
    return json.dumps({"id": code, **tags, "time": time, "isend": "1"}).encode()


class Publisher:
    """A paho client publishing at QoS 1 and waiting for the broker's PUBACK each time."""

    def __init__(self, port: int, username: str | None = None) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"pub-{uuid.uuid4().hex[:8]}")
        if username:
            self.client.username_pw_set(username)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, payload: bytes, topic: str = "MQTT_RT_DATA") -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def start_ingest(port: int, client_id: str | None = None) -> IngestProcess:
    """The real ingest process on the test's broker, connected and subscribed."""
    tag = client_id or f"hostile-{uuid.uuid4().hex[:8]}"
    ingest = IngestProcess("--url", f"mqtt://127.0.0.1:{port}", "--client-id", tag,
                           "--group", tag, "--protocol", "5", "--batch-wait", "0.05")
    ingest.wait_for("connected to")
    ingest.wait_for("(re)connected")
    time.sleep(0.5)  # let the SUBACK land before anything is published
    return ingest
