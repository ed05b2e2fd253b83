"""Debian's mbpoll (libmodbus) against ``python -m kpm37.simulator`` running as a subprocess.

mbpoll knows nothing of our code, so what it reads is what a real master would read: power in
watts where the KPM33B map says W.

Modbus TCP is read directly. mbpoll speaks RTU only to a serial device, so for RTU socat makes
a pseudo-terminal bridged to an RTU-over-TCP simulated gateway, and mbpoll reads through it.
"""

from __future__ import annotations

import asyncio
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kpm37.device import MeterDevice
from kpm37.modbus import ModbusTcpTransport
from kpm37.profile import load_profile
from tests.services import require_tool

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_LINE = re.compile(r"gateway (\d+) listening on ([\d.]+):(\d+)")
@pytest.fixture(autouse=True)
def _mbpoll_installed() -> None:
    require_tool("mbpoll")


def _read_line(proc: subprocess.Popen[str], deadline: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(max(0.0, deadline - time.monotonic())):
            raise AssertionError("simulator printed nothing in time")
    return proc.stdout.readline()


@contextmanager
def simulator(*args: str) -> Iterator[list[int]]:
    """Run the simulator CLI on free ports; yields the gateway ports, then stops it by SIGTERM."""
    cmd = [sys.executable, "-m", "kpm37.simulator", "--modbus-port-base", "0", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = _read_line(proc, time.monotonic() + 20)
        match = GATEWAY_LINE.search(line)
        assert match, line
        yield [int(match.group(3))]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "simulator stopped" in (proc.stdout.read() if proc.stdout else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def _volts(output: str) -> list[float]:
    return [float(v) for v in re.findall(r"^\[\d+\]:\s+(-?[\d.]+)", output, re.MULTILINE)]


def _mbpoll(*args: str) -> list[float]:
    out = subprocess.run(["mbpoll", *args], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stdout + out.stderr
    return _volts(out.stdout)


def test_mbpoll_reads_phase_voltages_over_modbus_tcp() -> None:
    with simulator("--meters-per-gateway", "2") as (port,):
        volts = _mbpoll("-m", "tcp", "-a", "2", "-r", "49", "-c", "3", "-t", "4:float", "-B",
                        "-1", "-p", str(port), "127.0.0.1")
        assert len(volts) == 3 and all(180.0 <= v <= 260.0 for v in volts), volts


def test_mbpoll_reads_phase_voltage_over_rtu() -> None:
    require_tool("socat")
    with simulator("--framer", "rtu") as (port,), tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "ttyKPM")
        bridge = subprocess.Popen(
            ["socat", f"pty,link={link},raw,echo=0", f"tcp:127.0.0.1:{port}"]
        )
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(link) and time.monotonic() < deadline:
                time.sleep(0.05)
            volts = _mbpoll("-m", "rtu", "-b", "9600", "-P", "none", "-a", "1", "-r", "49",
                            "-c", "1", "-t", "4:float", "-B", "-1", link)
            assert len(volts) == 1 and 180.0 <= volts[0] <= 260.0, volts
        finally:
            bridge.terminate()
            bridge.wait(timeout=5)


def _platform_reads(port: int, names: list[str]) -> dict[str, object]:
    """What the platform's device layer reads from the same simulated meter."""
    async def read() -> dict[str, object]:
        transport = ModbusTcpTransport("127.0.0.1", port, timeout=2.0)
        try:
            return await MeterDevice(transport, load_profile("kpm33b"), 1).read(names)
        finally:
            await transport.close()

    return asyncio.run(read())


def test_mbpoll_reads_watts_where_the_map_says_watts_and_the_platform_shows_kw() -> None:
    """KPM33B manual V3.4 §6.3: 0042H-0048H active power in W (float32). Debian's mbpoll,
    knowing nothing of our code, reads watts; the platform reads the same meter in kW."""
    with simulator("--profile", "kpm33b") as (port,):
        tcp = ["-m", "tcp", "-a", "1", "-t", "4:float", "-B", "-1", "-p", str(port),
               "127.0.0.1"]
        ua, ub, uc, ia, ib, ic, *_line, pa, pb, pc, total = _mbpoll("-r", "49", "-c", "13",
                                                                   *tcp)
        pfa, pfb, pfc = _mbpoll("-r", "91", "-c", "3", *tcp)
        platform = _platform_reads(port, ["active_power_total", "active_power_a"])
    assert total == pytest.approx(ua * ia * pfa + ub * ib * pfb + uc * ic * pfc, rel=1e-3)
    assert total == pytest.approx(pa + pb + pc, rel=1e-4)
    assert 100.0 < total < 1e6  # watts of a 5 A meter, not kilowatts
    assert platform["active_power_total"] == pytest.approx(total / 1000, rel=1e-2)
    assert platform["active_power_a"] == pytest.approx(pa / 1000, rel=1e-2)
