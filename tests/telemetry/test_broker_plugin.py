"""Issue 7: a client holding one meter's credentials cannot publish another meter's data.

``deploy/mosquitto/plugin/kpm_payload_id.c`` is built with ``make mosquitto-plugin`` and loaded
into a Mosquitto of the test's own, as deploy/mosquitto/kpm-fleet.conf loads it; the real
``manage.py ingest_mqtt`` then receives only what each meter may say about itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from config import services
from meters.telemetry.models import DeadLetter, Reading
from tests.factories import MeterFactory
from tests.services import require_postgres, require_tool
from tests.telemetry.background import wait_until
from tests.telemetry.hostile import Publisher, body, local, start_ingest
from tests.telemetry.private_broker import PrivateBroker

ROOT = Path(__file__).resolve().parents[2]
HEADER = Path("/usr/include/mosquitto_broker.h")


@pytest.fixture
def guarded() -> Iterator[PrivateBroker]:
    """A private Mosquitto with the plugin loaded and the ingest user trusted."""
    require_tool("mosquitto")
    if not HEADER.exists():
        reason = "mosquitto-dev is not installed (apt-get install mosquitto-dev libmosquitto-dev)"
        if services.required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="kpm-mosquitto-"))
    workdir.chmod(0o777)
    plugin = workdir / "kpm_payload_id.so"
    subprocess.run([require_tool("make"), "-s", "mosquitto-plugin", f"PLUGIN_OUT={plugin}"],
                   cwd=ROOT, check=True, timeout=120)
    plugin.chmod(0o755)
    broker = PrivateBroker(workdir, extra_conf=f"plugin {plugin}\n"
                                               "plugin_opt_trusted_users kpm-fleet-ingest\n")
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_meter_credential_publishes_only_its_own_id(guarded: PrivateBroker, vienna: Any) -> None:
    require_postgres()
    own = MeterFactory(mqtt=True, site=vienna, tenant=None)
    victim = MeterFactory(mqtt=True, site=vienna, tenant=None)
    now = local("Europe/Vienna", -timedelta(minutes=1))
    ingest = start_ingest(guarded.port)
    thief = Publisher(guarded.port, username=own.code)
    honest = Publisher(guarded.port, username=victim.code)
    anonymous = Publisher(guarded.port)
    try:
        thief.send(body(own.code, now, ua=230.0))  # its own reading: accepted
        thief.send(body(victim.code, now, ua=1.0))  # another meter's: refused at the broker
        thief.send(json.dumps({"id": own.code, "ID": victim.code, "ua": 2.0,
                               "time": now}).encode())  # ingest would read the second id
        thief.send(b'{"\\u0069d":"' + victim.code.encode() + b'","ua":3,"time":"'
                   + now.encode() + b'"}')  # an escaped key
        anonymous.send(body(victim.code, now, ua=4.0))  # no credentials: refused
        honest.send(body(victim.code, local("Europe/Vienna"), ua=231.0))
        assert wait_until(lambda: Reading.objects.filter(meter=victim).exists()
                          and Reading.objects.filter(meter=own).exists(), 30), \
            "".join(ingest.lines)
        time.sleep(1)  # anything forged would have arrived by now
        assert [r.values["voltage_a"] for r in Reading.objects.filter(meter=victim)] == [231.0]
        assert [r.values["voltage_a"] for r in Reading.objects.filter(meter=own)] == [230.0]
        assert not DeadLetter.objects.exists()  # refused messages never reach ingest
        assert ingest.proc.poll() is None
    finally:
        for client in (thief, honest, anonymous):
            client.close()
        ingest.stop()
