"""``manage.py dialin_listener`` as a real process: simulated 4G/WiFi meters dial in over TCP."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kpm37.metercode import make_meter_code
from kpm37.profile import load_profile
from kpm37.simulator.dialout import dial_in
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.rs485 import BusTiming
from meters.choices import MeterStatus
from meters.telemetry.models import LatestState, PollState, Reading, UnregisteredMeter
from meters.telemetry.polling import gateways_due
from tests.factories import GatewayFactory, MeterFactory
from tests.telemetry.background import LoopThread, wait_until
from tests.telemetry.ingest_process import ROOT, database_url

PROFILE = load_profile("kpm37")
FAST = BusTiming(115200, 0.001)
HOUR = 3600  # poll interval: within a test, a second poll can only come from a redial


def _code(serial: int) -> str:
    return make_meter_code(model="307", communication="1", year=25, month=3, serial=serial)


class ListenerProcess:
    """``manage.py dialin_listener`` on a free port; ``lines`` collects its log."""

    def __init__(self, gateway: str) -> None:
        env = {**os.environ, "DATABASE_URL": database_url(),
               "DJANGO_SETTINGS_MODULE": "config.settings_test", "LOG_LEVEL": "INFO"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "dialin_listener", "--gateway", gateway,
             "--port", "0", "--registration-timeout", "0.3", "--run-for", "120"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def port(self) -> int:
        assert wait_until(lambda: "listening for dial-in meters" in self.log, 30), self.log
        found = re.search(r"listening for dial-in meters on [\d.]+:(\d+)", self.log)
        assert found, self.log
        return int(found.group(1))

    def stop(self) -> int:
        """SIGTERM; returns the exit code (killed after 15 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def _sim(serial: int, volts: float, address: int = 1) -> SimMeter:
    sim = SimMeter(PROFILE, code=_code(serial), address=address, seed=serial)
    sim.set_load(voltage=volts)
    return sim


def _readings(meter: Any) -> int:
    return Reading.objects.filter(meter=meter, source="modbus").count()


def _hang_up(loop: LoopThread, task: Any) -> None:
    async def cancel() -> None:
        task.cancel()
        await asyncio.sleep(0.05)

    loop.run(cancel())


def test_dialin_meters_are_polled_stored_and_picked_up_again(
        transactional_db: None, loop: LoopThread) -> None:
    gateway = GatewayFactory(kind="dial-in", host="127.0.0.1", port=1, timeout_ms=800,
                             frame_gap_ms=10)
    # Unit ids differ only because meters/models.py keeps addresses unique per gateway; each
    # dial-in meter has its own link. The quiet one answers the serial probe on unit 1.
    packet, quiet = _sim(11, 231.0, address=2), _sim(12, 236.0)
    meters = {sim.code: MeterFactory(gateway=gateway, code=sim.code, address=sim.address,
                                     poll_interval_s=HOUR) for sim in (packet, quiet)}
    stranger = _sim(13, 240.0)
    process = ListenerProcess(gateway.name)
    tasks: list[Any] = []
    try:
        port = process.port()
        for sim, register in ((packet, True), (quiet, False), (stranger, True)):
            tasks.append(loop.run(dial_in(sim, "127.0.0.1", port, register=register,
                                          timing=FAST))[1])
        assert wait_until(lambda: all(_readings(m) == 1 for m in meters.values()), 30), \
            process.log
        _assert_polled(meters[packet.code], volts=231.0)
        _assert_polled(meters[quiet.code], volts=236.0)
        assert wait_until(lambda: UnregisteredMeter.objects.filter(
            code=stranger.code).exists(), 10), process.log
        assert not Reading.objects.filter(meter__code=stranger.code).exists()

        _hang_up(loop, tasks[0])
        tasks[0] = loop.run(dial_in(packet, "127.0.0.1", port, timing=FAST))[1]
        assert wait_until(lambda: _readings(meters[packet.code]) == 2, 30), process.log
        assert _readings(meters[quiet.code]) == 1  # not due for an hour: left alone
    finally:
        code = process.stop()
        for task in tasks:
            loop.loop.call_soon_threadsafe(task.cancel)
    assert code == 0, process.log
    for text in ("dial-in connection from 127.0.0.1", f"meter {packet.code} identified",
                 f"meter {quiet.code} polled", f"meter {stranger.code} is not in the inventory",
                 f"meter {packet.code} identified on gateway {gateway.name} (dialled again)",
                 "dial-in listener stopped"):
        assert text in process.log
    assert "Traceback" not in process.log


def _assert_polled(meter: Any, *, volts: float) -> None:
    reading = Reading.objects.get(meter=meter)
    assert reading.values["voltage_a"] == pytest.approx(volts, abs=0.2)
    latest = LatestState.objects.get(meter=meter).values
    assert latest["voltage_a"]["value"] == pytest.approx(reading.values["voltage_a"])
    meter.refresh_from_db()
    assert meter.status == MeterStatus.ONLINE
    state = PollState.objects.get(meter=meter)
    assert state.failures == 0 and state.last_ok_at == reading.time
    # Due one interval after the poll began; the reading is stamped when its read finished.
    began = state.next_poll_at - timedelta(seconds=HOUR)
    assert reading.time - timedelta(seconds=10) < began <= reading.time


def test_dialin_gateways_are_left_to_the_listener(db: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gateway = GatewayFactory(kind="dial-in", host="", port=5998)
    MeterFactory(gateway=gateway, address=1)
    assert gateways_due(now=timezone.now()) == []  # beat never queues a poll for it
    call_command("poll")
    assert (f"gateway {gateway.name} (dial-in): not polled here; its meters dial in to "
            f"`manage.py dialin_listener --gateway {gateway.name}`") in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 meter"):
        call_command("poll", "--gateway", gateway.name)
    assert "dialin_listener --gateway" in capsys.readouterr().err


def test_listener_refuses_bad_arguments_by_name(db: None) -> None:
    tcp = GatewayFactory()
    off = GatewayFactory(kind="dial-in", host="", port=5997, enabled=False)
    with pytest.raises(CommandError, match="--gateway: no gateway named 'nope'"):
        call_command("dialin_listener", "--gateway", "nope")
    with pytest.raises(CommandError, match=f"--gateway: {tcp.name} is a modbus-tcp gateway"):
        call_command("dialin_listener", "--gateway", tcp.name)
    with pytest.raises(CommandError, match="disabled"):
        call_command("dialin_listener", "--gateway", off.name)
    with pytest.raises(CommandError, match="--run-for: 'soon' is not a number"):
        call_command("dialin_listener", "--gateway", off.name, "--run-for", "soon")


def test_listener_stops_by_itself_after_run_for(db: None) -> None:
    gateway = GatewayFactory(kind="dial-in", host="127.0.0.1", port=1)
    started = time.monotonic()
    call_command("dialin_listener", "--gateway", gateway.name, "--port", "0",
                 "--run-for", "0.3")
    assert time.monotonic() - started < 20


def test_failures_are_logged_backed_off_and_never_stop_the_listener(
        transactional_db: None, loop: LoopThread) -> None:
    gateway = GatewayFactory(kind="dial-in", host="127.0.0.1", port=1, timeout_ms=300,
                             frame_gap_ms=10)
    silent = _sim(21, 230.0)  # answers unit 1; the inventory says unit 9, so polls time out
    meter = MeterFactory(gateway=gateway, code=silent.code, address=9, poll_interval_s=600)
    healthy = _sim(22, 232.0, address=2)
    other = MeterFactory(gateway=gateway, code=healthy.code, address=2, poll_interval_s=HOUR)
    process = ListenerProcess(gateway.name)
    tasks: list[Any] = []
    try:
        port = process.port()
        loop.run(_send_garbage("127.0.0.1", port))
        for sim in (silent, healthy):
            tasks.append(loop.run(dial_in(sim, "127.0.0.1", port, timing=FAST))[1])
        assert wait_until(lambda: PollState.objects.filter(meter=meter, failures=1).exists(),
                          30), process.log
        assert wait_until(lambda: _readings(other) == 1, 30), process.log
    finally:
        code = process.stop()
        for task in tasks:
            loop.loop.call_soon_threadsafe(task.cancel)
    state = PollState.objects.get(meter=meter)
    assert state.last_error.startswith("DeviceTimeout") and state.last_ok_at is None
    assert state.next_poll_at - timezone.now() > timedelta(seconds=1100)  # 2 x 600 s backoff
    meter.refresh_from_db()
    assert meter.status == MeterStatus.NEVER_SEEN and not _readings(meter)
    assert code == 0, process.log
    assert f"meter {silent.code} poll failed: DeviceTimeout" in process.log
    assert "not identified" in process.log and "is not a meter code" in process.log
    assert "Traceback" not in process.log


async def _send_garbage(host: str, port: int) -> None:
    """A caller that is no meter: 13 bytes that are not a code, then it hangs up."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET / HTTP/1.")
    await writer.drain()
    await reader.read()  # the listener hangs up on it
    writer.close()
