"""Issue 4, as an operator would try it: `mosquitto_pub` of garbage, of truncated JSON and of an
unknown meter code into Mosquitto leaves the real ingest process running, and each lands in the
dead letters or the unregistered list; a good message after them is still stored."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

import pytest

from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter
from tests.factories import MeterFactory
from tests.services import require_postgres, require_tool
from tests.telemetry.background import wait_until
from tests.telemetry.ingest_process import IngestProcess
from tests.telemetry.private_broker import PrivateBroker

UNKNOWN = "3071225900777"


def mosquitto_pub(port: int, payload: bytes) -> None:
    """Publish ``payload`` (read from stdin, so any bytes) at QoS 1 with Debian's client."""
    subprocess.run([require_tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                    "-t", "MQTT_RT_DATA", "-s"], input=payload, check=True, timeout=20)


def message(code: str, volts: float, time: str) -> bytes:
    return f'{{"id":"{code}","ua":{volts},"time":"{time}","isend":"1"}}'.encode()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_garbage_truncated_and_unknown_meter_leave_ingest_running(
        broker: PrivateBroker, vienna: Any) -> None:
    require_postgres()
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    tag = uuid.uuid4().hex[:10]
    ingest = IngestProcess("--url", f"mqtt://127.0.0.1:{broker.port}", "--client-id",
                           f"pub-{tag}", "--group", f"pub-{tag}", "--protocol", "5",
                           "--batch-wait", "0.05")
    try:
        ingest.wait_for("connected to")
        time.sleep(0.5)  # SUBACK
        mosquitto_pub(broker.port, b"\x00\xffthis is not json")
        mosquitto_pub(broker.port, message(meter.code, 231.5, "20260301120000")[:40])
        mosquitto_pub(broker.port, message(UNKNOWN, 230.1, "20260301120000"))
        mosquitto_pub(broker.port, message(meter.code, 229.9, "20260301120500"))
        assert wait_until(lambda: Reading.objects.filter(meter=meter).exists(), 30), ingest.lines
        assert ingest.proc.poll() is None  # still running
        malformed = DeadLetter.objects.filter(kind=DeadLetterKind.MALFORMED)
        assert malformed.count() == 2
        assert any(b"not json" in bytes(d.payload) for d in malformed)
        assert any(bytes(d.payload).endswith(b'"ua":231.5,"time":') for d in malformed)
        assert DeadLetter.objects.filter(kind=DeadLetterKind.UNKNOWN_METER,
                                         meter_code=UNKNOWN).count() == 1
        assert UnregisteredMeter.objects.filter(code=UNKNOWN).exists()
        reading = Reading.objects.get(meter=meter)
        assert reading.values["voltage_a"] == pytest.approx(229.9)
    finally:
        ingest.stop()
