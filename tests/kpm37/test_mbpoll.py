"""Debian's mbpoll (libmodbus) against ``python -m kpm37.simulator`` running as a subprocess.

Modbus TCP is read directly. mbpoll speaks RTU only to a serial device, so for RTU socat makes
a pseudo-terminal bridged to an RTU-over-TCP simulated gateway, and mbpoll reads through it.
"""

from __future__ import annotations

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
