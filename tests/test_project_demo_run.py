"""The demo orchestrator: parts start, get reported when they fail, and all stop without orphans."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from provisioning.demo.supervisor import Part, Supervisor, alive_for, log_ready

PY = sys.executable


def _supervisor(tmp_path: Path, said: list[str]) -> Supervisor:
    return Supervisor(log_dir=tmp_path / "log", env={"PATH": "/usr/bin:/bin"}, say=said.append)


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


# A part that leaves a stubborn helper behind (SIGTERM ignored), like a worker's pool process.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys, time
    helper = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    print("helper", helper.pid, flush=True)
    time.sleep(60)
""")


def test_stop_all_ends_the_part_and_everything_in_its_group(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = _supervisor(tmp_path, said)
    running = supervisor.start(Part("stubborn", [PY, "-c", STUBBORN], log_ready("helper"), 20))
    assert running is not None, said
    helper = int(running.log_text().split()[1])
    supervisor.stop_all()
    assert _gone(running.process.pid) and _gone(helper)
    assert any("stubborn: killed what was left" in line for line in said)


def test_a_part_that_dies_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = _supervisor(tmp_path, said)
    part = Part("broken", [PY, "-c", "import sys; print('no config here'); sys.exit(3)"],
                alive_for(30), 20)
    assert supervisor.start(part) is None
    assert "broken exited with 3" in said[-1] and "no config here" in said[-1]
    supervisor.stop_all()


def test_a_part_not_in_the_checkout_is_skipped_with_the_reason(tmp_path: Path) -> None:
    said: list[str] = []
    part = Part("future", [PY, "-c", "pass"], alive_for(0), 1, missing="not written yet")
    assert _supervisor(tmp_path, said).start(part) is None
    assert said == ["  - future: not started, not written yet"]


def test_a_part_stopping_later_is_reported_once(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = _supervisor(tmp_path, said)
    script = "import time; print('up', flush=True); time.sleep(0.5); print('bye')"
    assert supervisor.start(Part("brief", [PY, "-c", script], log_ready("up"), 20))
    supervisor.running[0].process.wait(timeout=20)
    supervisor.report_exits()
    supervisor.report_exits()
    stopped = [line for line in said if "brief stopped with 0" in line]
    assert len(stopped) == 1 and "bye" in stopped[0]
    supervisor.stop_all()


ORCHESTRATOR = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from provisioning.demo.supervisor import Part, Supervisor, log_ready
    sup = Supervisor(log_dir=Path(sys.argv[1]), env={}, say=print)
    running = sup.start(Part("sleeper", [sys.executable, "-c",
        "import time; print('up', flush=True); time.sleep(60)"], log_ready("up"), 20))
    print("child", running.process.pid, flush=True)
    time.sleep(60)
""")


def test_parts_die_with_a_killed_orchestrator(tmp_path: Path) -> None:
    orchestrator = subprocess.Popen([PY, "-c", ORCHESTRATOR, str(tmp_path)], text=True,
                                    stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    try:
        assert orchestrator.stdout is not None
        line = next(line for line in orchestrator.stdout if line.startswith("child"))
        child = int(line.split()[1])
        orchestrator.kill()  # SIGKILL: no chance to clean up; the kernel must tell the child
        assert _gone(child)
    finally:
        orchestrator.kill()
        orchestrator.wait(timeout=10)
