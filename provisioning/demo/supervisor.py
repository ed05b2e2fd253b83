"""Run the demo's parts as child processes, each in its own process group, and stop them all.

Every part gets its own session (so a terminal Ctrl-C reaches only the orchestrator, which then
stops the parts in reverse order) and, on Linux, a parent-death signal, so even a killed
orchestrator leaves no orphans behind. Output of each part goes to var/log/<part>.log.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_S = 20.0  # a Celery worker's warm shutdown alone takes 6-10 s here
PR_SET_PDEATHSIG = 1


@dataclass
class Part:
    """One process of the demo: how to start it and how to tell it is ready."""

    name: str
    argv: list[str]
    ready: Callable[[Running], bool]
    ready_timeout_s: float = 30.0
    missing: str = ""  # why this part cannot run yet (a command still being written), if so


@dataclass
class Running:
    part: Part
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)
    reported_exit: bool = False

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 8) -> str:
        return "\n".join("    " + line for line in self.log_text().splitlines()[-lines:])


def port_ready(port: int, host: str = "127.0.0.1") -> Callable[[Running], bool]:
    """Ready when something accepts TCP connections on ``port``."""
    return lambda _running: port_accepts(host, port)


def ports_ready(ports: list[int]) -> Callable[[Running], bool]:
    return lambda _running: all(port_accepts("127.0.0.1", port) for port in ports)


def log_ready(marker: str) -> Callable[[Running], bool]:
    """Ready when the part's log contains ``marker``."""
    return lambda running: marker in running.log_text()


def alive_for(seconds: float) -> Callable[[Running], bool]:
    """Ready when the part is still running ``seconds`` after it started (no better signal)."""
    return lambda running: time.monotonic() - running.started_at >= seconds


def port_accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    # Runs in the child between fork and exec (after setsid): SIGTERM it when we die.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Starts parts, waits for them to be ready, watches them, and stops them all."""

    def __init__(self, *, log_dir: Path, env: dict[str, str], say: Callable[[str], None]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.say = say
        self.running: list[Running] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, part: Part) -> Running | None:
        """Start ``part`` and wait until it is ready; None (after saying why) if it is not."""
        if part.missing:
            self.say(f"  - {part.name}: not started, {part.missing}")
            return None
        log_path = self.log_dir / f"{part.name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                part.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True, preexec_fn=_die_with_parent)
        running = Running(part, process, log_path)
        self.running.append(running)
        return running if self._wait_ready(running) else None

    def _wait_ready(self, running: Running) -> bool:
        part = running.part
        deadline = time.monotonic() + part.ready_timeout_s
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                running.reported_exit = True
                self.say(f"  ! {part.name} exited with {running.process.returncode} "
                         f"(log {running.log_path}):\n{running.log_tail()}")
                return False
            if part.ready(running):
                self.say(f"  + {part.name} ready (log {running.log_path})")
                return True
            time.sleep(0.3)
        self.say(f"  ? {part.name} not ready after {part.ready_timeout_s:.0f} s; going on "
                 f"(log {running.log_path})")
        return False

    def report_exits(self) -> None:
        """Say once about every part that has stopped on its own since the last call."""
        for running in self.running:
            if running.process.poll() is not None and not running.reported_exit:
                running.reported_exit = True
                self.say(f"  ! {running.part.name} stopped with {running.process.returncode}; "
                         f"last lines of {running.log_path}:\n{running.log_tail()}")

    def stop_all(self) -> None:
        """SIGTERM every part (newest first), then SIGKILL whatever lingers in its group.

        Only the part's main process gets SIGTERM: it shuts down its own helpers in order (a
        Celery worker whose pool processes are signalled too hangs on the dead pool)."""
        for running in reversed(self.running):
            with contextlib.suppress(ProcessLookupError):
                running.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for running in reversed(self.running):
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for running in self.running:
            # Also reaps helpers a part left behind in its group (e.g. a worker's pool).
            if _signal_group(running.process.pid, signal.SIGKILL):
                self.say(f"  {running.part.name}: killed what was left of its process group")
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=5)
        self.running.clear()


def _signal_group(pgid: int, signum: int) -> bool:
    """Signal a process group; False if the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True
