"""A Mosquitto of a test's own (persistence on, a free port), restartable on the same port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import services
from tests.services import require_tool
from tests.telemetry.background import wait_until


class PrivateBroker:
    """A Mosquitto with on-disk persistence, restartable on the same port."""

    def __init__(self, workdir: Path, extra_conf: str = "") -> None:
        self.port = _free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\nmax_queued_messages 100000\n"
            f"log_dest file {workdir}/mosquitto.log\nlog_type all\n{extra_conf}")
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: services.reachable(("127.0.0.1", self.port)), 10):
            raise AssertionError("private mosquitto did not start")

    def stop(self) -> None:
        """SIGTERM: Mosquitto writes its persistence file as it exits, as on a service restart."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def broker() -> Iterator[PrivateBroker]:
    require_tool("mosquitto")
    # Started as root, Mosquitto drops to its own user, which cannot enter pytest's 0700
    # tmp_path: without a directory it can write, persistence silently does nothing.
    workdir = Path(tempfile.mkdtemp(prefix="kpm-mosquitto-"))
    workdir.chmod(0o777)
    private = PrivateBroker(workdir)
    private.start()
    yield private
    private.stop()
    shutil.rmtree(workdir, ignore_errors=True)
