"""An MQTT fleet on loopback for the ingest benchmarks: broker, meters, traffic, consumers.

- ``private_broker``: a Mosquitto of our own on a free loopback port, configured like
  deploy/mosquitto/kpm-fleet.conf (queue limit, no Nagle) but anonymous and without
  persistence, so no other engineer's traffic on :1883 mixes into the figures (the topics of
  V1.9 are fixed, every meter publishes to the same ones) and ours never reaches their tests;
- ``make_meters``: MQTT meters in the throwaway database (webdb.py), in bulk;
- ``stream``: V1.9 payloads built from the captured KPM33B messages (tests/fixtures/captures),
  per meter an MQTT_RT_DATA every 30 s and an MQTT_ENY_NOW a minute, time-major as a broker
  delivers a live fleet's traffic, meter clocks at "now" in the site's time zone;
- ``publish`` and ``bare_subscribe`` run in their own processes (multiprocessing, spawn) and
  report wall-clock times, so the figures of several processes share one time line;
- ``IngestProcesses``: N real ``manage.py ingest_mqtt`` processes on one shared subscription.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "tests" / "fixtures" / "captures"
SITE_TZ = "Europe/Vienna"
TOPICS = ("MQTT_RT_DATA", "MQTT_ENY_NOW", "MQTT_DAY_DATA", "MQTT_TELEIND")
# The captured meter carries ~10 A a phase: behind 100/5 A CTs (ratio 20) that is normal load,
# at CT ratio 1 (In 5 A) every RT_DATA is an over-current and an overload.
QUIET_CT_RATIO, ALARM_CT_RATIO = 20, 1
ALARMS_PER_HOT_METER = 2  # over-current and overload
MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages {max_queued}
set_tcp_nodelay true
"""


BROKER_PIDS: dict[int, int] = {}  # port -> pid of the private broker serving it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def private_broker(max_queued: int = 100_000) -> Iterator[int]:
    """A Mosquitto on a free loopback port; yields the port, stops the broker on exit."""
    tmp = Path(tempfile.mkdtemp(prefix="kpmfleet-bench-mqtt-"))
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(MOSQUITTO_CONF.format(port=port, max_queued=max_queued))
    log = (tmp / "mosquitto.log").open("w")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=log)
    BROKER_PIDS[port] = proc.pid
    try:
        _wait_port(port, proc)
        yield port
    finally:
        BROKER_PIDS.pop(port, None)
        proc.terminate()
        proc.wait(10)
        log.close()


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"mosquitto exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"mosquitto did not listen on {port}")


def broker_rss_kb(port: int) -> int:
    """Peak resident memory of the private broker listening on ``port`` (0 if not ours)."""
    return rss_kb(BROKER_PIDS[port], "VmHWM") if port in BROKER_PIDS else 0


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A memory field of /proc/<pid>/status in kB (VmRSS now, VmHWM the peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- the inventory (needs Django set up by webdb.throwaway_database) -------------------------

def make_meters(count: int, hot_every: int = 0) -> list[str]:
    """``count`` MQTT meters on one site; every ``hot_every``-th one at CT ratio 1, so its
    RT_DATA raises alarms. Returns their codes in order."""
    from kpm37.simulator.codes import mqtt_meter_code
    from meters.models import Meter, Site

    site, _ = Site.objects.get_or_create(name="bench", defaults={"timezone": SITE_TZ})
    meters = []
    for i in range(count):
        hot = hot_every and i % hot_every == 0
        meter = Meter(code=mqtt_meter_code(i), transport="mqtt", site=site,
                      ct_ratio=ALARM_CT_RATIO if hot else QUIET_CT_RATIO)
        meter.fill_decoded_code()  # bulk_create skips save(), which fills these
        meters.append(meter)
    Meter.objects.bulk_create(meters, batch_size=2000)
    return [m.code for m in meters]


# --- traffic --------------------------------------------------------------------------------

def _capture(name: str) -> dict[str, Any]:
    return dict(json.loads((CAPTURES / name).read_text()))


def stream(codes: list[str], slots: int, newest: datetime | None = None
           ) -> list[tuple[str, bytes]]:
    """Time-major traffic of ``slots`` 30-second slots ending at ``newest`` (meter-local, now
    by default): each slot an RT_DATA from every meter, every other slot an ENY_NOW too."""
    rt, eny = _capture("kpm33b_MQTT_RT_DATA.json"), _capture("kpm33b_MQTT_ENY_NOW.json")
    newest = newest or datetime.now(ZoneInfo(SITE_TZ)).replace(tzinfo=None, microsecond=0)
    out: list[tuple[str, bytes]] = []
    for slot in range(slots):
        stamp = (newest - timedelta(seconds=30 * (slots - 1 - slot))).strftime("%Y%m%d%H%M%S")
        for n, code in enumerate(codes):
            out.append(("MQTT_RT_DATA", _payload(rt, code, stamp, 1 + (n + slot) % 7 / 1000, 0)))
            if slot % 2 == (slots - 1) % 2:  # the newest slot always carries an ENY_NOW
                out.append(("MQTT_ENY_NOW", _payload(eny, code, stamp, 1.0, slot / 40)))
    return out


def _payload(template: dict[str, Any], code: str, stamp: str, scale: float,
             add: float) -> bytes:
    body = {tag: round(float(v) * scale + add, 4) if isinstance(v, float) else v
            for tag, v in template.items()}
    body.update(id=code, time=stamp)
    return json.dumps(body, separators=(",", ":")).encode()


# --- processes on the broker ----------------------------------------------------------------

def _client(client_id: str, protocol: int) -> Any:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    kwargs = {} if protocol == paho.MQTTv5 else {"clean_session": True}
    return paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                       **kwargs)


WINDOW = 500  # unacknowledged publishes in flight; paho's own queue is never used


def _publisher(port: int, codes: list[str], slots: int, go: Any, out: Any) -> None:
    """Publish the stream as fast as the broker acknowledges, ``WINDOW`` in flight.

    The window is ours, below paho's inflight limit: with more publishes than that limit
    paho queues them itself and, publishing from one thread while its network thread handles
    the acks, was seen to strand part of the queue (a run never finished)."""
    import paho.mqtt.client as paho

    packets = stream(codes, slots)
    client = _client(f"bench-pub-{os.getpid()}", paho.MQTTv311)
    client.max_inflight_messages_set(2 * WINDOW)
    acked = [0]
    client.on_publish = lambda *_a: acked.__setitem__(0, acked[0] + 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    out.put(("ready", len(packets)))
    go.wait()
    started = time.time()
    last_progress, seen = time.monotonic(), 0
    for sent, (topic, payload) in enumerate(packets):
        while sent - acked[0] >= WINDOW and time.monotonic() - last_progress < 30:
            time.sleep(0.0005)
            if acked[0] != seen:
                seen, last_progress = acked[0], time.monotonic()
        client.publish(topic, payload, qos=1)
    while acked[0] < len(packets) and time.monotonic() - last_progress < 30:
        time.sleep(0.005)
        if acked[0] != seen:
            seen, last_progress = acked[0], time.monotonic()
    out.put(("published", started, time.time(), acked[0]))
    client.disconnect()
    client.loop_stop()


def _bare(port: int, expected: int, out: Any, timeout_s: float) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.subscribeoptions import SubscribeOptions

    client = _client(f"bench-bare-{os.getpid()}", paho.MQTTv5)
    seen = [0, 0.0, 0.0]

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        seen[0] += 1
        seen[2] = time.time()
        if seen[0] == 1:
            seen[1] = seen[2]

    client.on_message = on_message
    client.on_subscribe = lambda *_a: out.put(("ready",))
    client.connect("127.0.0.1", port)
    client.subscribe([(t, SubscribeOptions(qos=1)) for t in TOPICS])
    deadline = time.monotonic() + timeout_s
    while seen[0] < expected and time.monotonic() < deadline:
        client.loop(0.1)
    out.put(("received", seen[0], seen[1], seen[2]))
    client.disconnect()


class Consumers:
    """The publisher and the bare subscriber as processes, each reporting on a queue."""

    def __init__(self, port: int, codes: list[str], slots: int, *, bare: bool,
                 timeout_s: float = 300) -> None:
        ctx = mp.get_context("spawn")
        self.go = ctx.Event()
        self.pub_q: Any = ctx.Queue()
        self.bare_q: Any = ctx.Queue()
        self.pub = ctx.Process(target=_publisher, args=(port, codes, slots, self.go, self.pub_q))
        self.pub.start()
        _, self.count = self.pub_q.get(timeout=120)
        self.bare = None
        if bare:
            self.bare = ctx.Process(target=_bare, args=(port, self.count, self.bare_q, timeout_s))
            self.bare.start()
            self.bare_q.get(timeout=30)

    def start(self) -> None:
        self.go.set()

    def published(self) -> tuple[float, float]:
        """(wall time publishing began, wall time the last publish was acknowledged)."""
        _, started, finished, acked = self.pub_q.get(timeout=900)
        self.pub.join(10)
        if acked != self.count:
            raise SystemExit(f"the broker acknowledged {acked} of {self.count} publishes")
        return started, finished

    def bare_received(self) -> tuple[int, float, float]:
        assert self.bare is not None
        _, n, first, last = self.bare_q.get(timeout=600)
        self.bare.join(10)
        return n, first, last


class IngestProcesses:
    """``count`` real ``manage.py ingest_mqtt`` processes sharing one subscription."""

    def __init__(self, port: int, count: int, *, batch_size: int = 500) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="kpmfleet-bench-ingest-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        from webdb import production_env

        env = {**production_env(), "LOG_LEVEL": "WARNING"}
        for n in range(count):
            log = (self.logs / f"ingest-{n}.log").open("wb")
            self.procs.append(subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "ingest_mqtt",
                 "--url", f"mqtt://127.0.0.1:{port}", "--client-id", f"bench-ingest-{n}",
                 "--group", "bench", "--protocol", "5", "--batch-size", str(batch_size)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        self.wait_connected()

    def wait_connected(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        for n, proc in enumerate(self.procs):
            while "connected to" not in self.log(n):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"ingest {n} did not connect:\n{self.log(n)}")
                time.sleep(0.1)

    def log(self, n: int) -> str:
        return (self.logs / f"ingest-{n}.log").read_text(errors="replace")

    def peak_rss_kb(self) -> int:
        return max(rss_kb(p.pid, "VmHWM") for p in self.procs)

    def stop(self) -> list[str]:
        """SIGTERM every process (they commit and ack what they hold); their last lines."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        tails = []
        for n, proc in enumerate(self.procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            tails.append(self.log(n).strip().splitlines()[-1:] and
                         self.log(n).strip().splitlines()[-1])
        return tails


def wait_stored(expected: int, *, stall_s: float = 30, poll_s: float = 0.1) -> tuple[int, float]:
    """Poll the readings table until ``expected`` rows are there or nothing moved for
    ``stall_s``; returns (rows, wall-clock time the last row count was first seen)."""
    from django.db import connection

    table = "telemetry_reading"
    rows, at, moved = -1, time.time(), time.monotonic()
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a fixed name)
            now_rows = cursor.fetchone()[0]
        if now_rows != rows:
            rows, at, moved = now_rows, time.time(), time.monotonic()
        if rows >= expected or time.monotonic() - moved > stall_s:
            return rows, at
        time.sleep(poll_s)
