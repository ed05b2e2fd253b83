"""Issue 7: nothing in a payload stops ``manage.py ingest_mqtt``.

A stream of hostile messages (JSON nested 100,000 deep, numbers of 400 and 5,000 digits, years
9999 and 1, JSON that is no object, binary garbage, 59,000 tags in 1 MB, ...) mixed with genuine
ones, published at QoS 1 into a Mosquitto of the test's own: ingest keeps running, stores every
genuine message, turns each hostile one into a bounded dead letter, and acknowledges it, so a
restarted process is not handed it again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from meters.alarms.choices import AlarmKind
from meters.alarms.models import Alarm
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, LatestState, Reading
from tests.factories import MeterFactory, SiteFactory
from tests.services import require_postgres, require_tool
from tests.telemetry.background import wait_until
from tests.telemetry.hostile import Publisher, body, local, start_ingest
from tests.telemetry.private_broker import PrivateBroker

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "kpm-fleet.conf"
BIG_LIMIT = "4000000"  # lets the 1 MB and 200 kB payloads reach the parser in the first test


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def hostile(vienna: str, new_york: str, tokyo: str) -> list[tuple[bytes, str, str]]:
    """(payload, topic, dead-letter kind) of each hostile message."""
    now = local("Europe/Vienna")
    rt, kind = "MQTT_RT_DATA", DeadLetterKind
    prefix = f'{{"id":"{vienna}","time":"{now}","ua":'.encode()
    many = {"id": vienna, "time": now, **{f"x{n}": n for n in range(59_000)}}
    return [
        (nested(100_000).encode(), rt, kind.MALFORMED),
        (prefix + nested(100_000).encode() + b"}", rt, kind.MALFORMED),
        (prefix + b"1" * 400 + b"}", rt, kind.MALFORMED),
        (prefix + b"9" * 5000 + b"}", rt, kind.MALFORMED),
        (prefix + b'"' + b"9" * 400 + b'"}', rt, kind.MALFORMED),
        (prefix + b"1e999}", rt, kind.MALFORMED),
        (prefix + b"NaN}", rt, kind.MALFORMED),
        (body(vienna, "99991231235959", ua=230.0), rt, kind.BAD_TIME),
        (body(new_york, "99991231235959", ua=230.0), rt, kind.BAD_TIME),
        (body(tokyo, "00010101000000", ua=230.0), rt, kind.BAD_TIME),
        (body(vienna, "00010101000000", ua=230.0), rt, kind.BAD_TIME),
        (body(vienna, "20261332250000", ua=230.0), rt, kind.MALFORMED),
        (b"[1, 2, 3]", rt, kind.MALFORMED),
        (b'"just a string"', rt, kind.MALFORMED),
        (b"null", rt, kind.MALFORMED),
        (bytes(range(256)) * 4, rt, kind.MALFORMED),
        (json.dumps(many).encode(), rt, kind.MALFORMED),
        (body(vienna, now, value="f" * 400 + "@1"), "MQTT_TELEIND", kind.MALFORMED),
        (f'{{"id":"{vienna}","time":"{now}","isend":{nested(5000)}}}'.encode(), rt,
         kind.MALFORMED),
        (body("\u0000" * 13, now, ua=1), rt, kind.MALFORMED),
        (body("9" * 1_000_000, now, ua=1), rt, kind.MALFORMED),
    ]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_hostile_stream_mixed_with_genuine_messages(
        broker: PrivateBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    monkeypatch.setenv("TELEMETRY_MAX_MESSAGE_BYTES", BIG_LIMIT)
    vienna = MeterFactory(mqtt=True, tenant=None, site=SiteFactory(timezone="Europe/Vienna"))
    new_york = MeterFactory(mqtt=True, tenant=None, site=SiteFactory(timezone="America/New_York"))
    tokyo = MeterFactory(mqtt=True, tenant=None, site=SiteFactory(timezone="Asia/Tokyo"))
    bad = hostile(vienna.code, new_york.code, tokyo.code)
    ingest = start_ingest(broker.port, client_id="hostile-stream")
    pub = Publisher(broker.port)
    genuine = 0
    try:
        for n, (payload, topic, _kind) in enumerate(bad):
            pub.send(payload, topic)
            # A genuine message after each hostile one, each at its own minute in the past.
            when = local("Europe/Vienna", -timedelta(minutes=n + 1))
            pub.send(body(vienna.code, when, ua=220.0 + n, ub=221.0, uc=222.0, **{"u\u0000x": 1}))
            genuine += 1
        assert wait_until(lambda: Reading.objects.filter(meter=vienna).count() == genuine
                          and DeadLetter.objects.count() == len(bad), 60), \
            f"{Reading.objects.count()} readings, {DeadLetter.objects.count()} dead letters\n" \
            + "".join(ingest.lines[-20:])
        assert ingest.proc.poll() is None, "".join(ingest.lines)
        kinds = sorted(DeadLetter.objects.values_list("kind", flat=True))
        assert kinds == sorted(k for _p, _t, k in bad)
        for letter in DeadLetter.objects.all():
            assert len(bytes(letter.payload)) <= 16384 and len(letter.reason) <= 1000
        cut = DeadLetter.objects.get(reason__contains="59002 tags")  # 1 MB of tags, kept 16 kB
        assert "cut to its first 16384 of" in cut.reason
        # Year 9999 and year 1 are never readings; the far-off clock raises the clock alarm.
        assert not Reading.objects.filter(time__year__in=[1, 9999]).exists()
        clocks = Alarm.objects.filter(kind=AlarmKind.CLOCK_OFF)
        assert set(clocks.values_list("meter__code", flat=True)) == {
            vienna.code, new_york.code, tokyo.code}
        # Genuine values arrived in the latest state, the 9999 reading did not freeze them.
        latest = LatestState.objects.get(meter=vienna).values
        assert latest["voltage_a"]["value"] == 220.0  # the newest genuine reading (n = 0)
        assert all(not name.startswith("u\u0000") for r in Reading.objects.all()
                   for name in r.extra)
    finally:
        pub.close()
        ingest.stop()
    # Every message was acknowledged: the same session, restarted, is handed nothing again.
    again = start_ingest(broker.port, client_id="hostile-stream")
    try:
        time.sleep(2)
        assert DeadLetter.objects.count() == len(bad)
        assert Reading.objects.filter(meter=vienna).count() == genuine
        assert again.proc.poll() is None
    finally:
        again.stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_message_over_the_size_limit_is_a_bounded_dead_letter(
        broker: PrivateBroker, vienna: Any) -> None:
    require_postgres()
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    huge = body(meter.code, local("Europe/Vienna"), ua=230.0, pad="x" * 1_000_000)
    ingest = start_ingest(broker.port)
    pub = Publisher(broker.port)
    try:
        pub.send(huge)
        pub.send(body(meter.code, local("Europe/Vienna", -timedelta(minutes=1)), ua=231.0))
        assert wait_until(lambda: Reading.objects.filter(meter=meter).exists()
                          and DeadLetter.objects.exists(), 30), "".join(ingest.lines)
        letter = DeadLetter.objects.get()
        assert letter.kind == DeadLetterKind.TOO_LARGE
        assert f"message of {len(huge)} bytes; the limit is 65536 bytes" in letter.reason
        assert bytes(letter.payload) == huge[:16384]  # bounded, and not repeated in the reason
        assert len(letter.reason) < 300
        assert ingest.proc.poll() is None
    finally:
        pub.close()
        ingest.stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_deployed_broker_refuses_a_1_mb_message(vienna: Any) -> None:
    """The size limit of deploy/mosquitto/kpm-fleet.conf, on a Mosquitto of the test's own."""
    require_postgres()
    limit = [line for line in DEPLOY_CONF.read_text().splitlines()
             if line.startswith("max_packet_size ")]
    assert limit, "deploy/mosquitto/kpm-fleet.conf sets no max_packet_size"
    workdir = Path(tempfile.mkdtemp(prefix="kpm-mosquitto-"))
    workdir.chmod(0o777)
    limited = PrivateBroker(workdir, extra_conf=limit[0] + "\n")
    limited.start()
    meter = MeterFactory(mqtt=True, site=vienna, tenant=None)
    ingest = start_ingest(limited.port)
    try:
        huge = body(meter.code, local("Europe/Vienna"), ua=230.0, pad="x" * 1_000_000)
        refused = subprocess.run([require_tool("mosquitto_pub"), "-p", str(limited.port), "-q",
                                  "1", "-t", "MQTT_RT_DATA", "-s"], input=huge,
                                 capture_output=True, timeout=20, check=False)
        assert refused.returncode != 0  # the broker closed the connection
        pub = Publisher(limited.port)
        pub.send(body(meter.code, local("Europe/Vienna", -timedelta(minutes=1)), ua=231.0))
        pub.close()
        assert wait_until(lambda: Reading.objects.filter(meter=meter).exists(), 30)
        time.sleep(0.5)
        assert not DeadLetter.objects.exists()  # the 1 MB message never reached ingest
    finally:
        ingest.stop()
        limited.stop()
        shutil.rmtree(workdir, ignore_errors=True)
