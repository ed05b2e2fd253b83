"""`manage.py demo` end to end: it comes up, its printed login works, and Ctrl-C leaves nothing."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
# The test run's own settings (PostgreSQL URL, test secret) must not leak into the demo.
TEST_ONLY_ENV = {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
                 "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "MQTT_URL"}


def _free_ports(count: int) -> int:
    """A base port with ``count`` consecutive free ports after it (checked by binding)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count < 65000 and all(_bindable(base + i) for i in range(count)):
            return base
    raise RuntimeError("no run of free ports")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _read_until(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    lines: list[str] = []
    found = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                found.set()
    threading.Thread(target=pump, daemon=True).start()
    found.wait(timeout_s)
    return "".join(lines)


def _log_in(base: str, username: str, password: str) -> str:
    """Log in through the real login form; return the path the browser lands on."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = base + reverse("login")
    page = opener.open(login_url, timeout=20).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "the login page has no CSRF token"
    form = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": token.group(1)}).encode()
    request = urllib.request.Request(login_url, data=form,  # noqa: S310 - http:// only
                                     headers={"Referer": login_url})
    try:
        with opener.open(request, timeout=20) as response:
            return urllib.parse.urlparse(response.url).path
    except urllib.error.HTTPError as error:  # landing page may not exist yet: where did we go?
        return urllib.parse.urlparse(error.url).path


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_demo_runs_logs_in_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    web, mqtt, modbus, control = _free_ports(1), _free_ports(1), _free_ports(2), _free_ports(1)
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    env.update(DEBUG="1", FLEET_VAR_DIR=str(tmp_path), FLEET_DEMO_PORT=str(web),
               FLEET_DEMO_MQTT_PORT=str(mqtt), FLEET_DEMO_MODBUS_PORT_BASE=str(modbus),
               FLEET_DEMO_GATEWAYS="2", FLEET_DEMO_METERS_PER_GATEWAY="2",
               FLEET_DEMO_MQTT_METERS="1", FLEET_DEMO_PASSWORD="e2e-demo-pass",
               FLEET_DEMO_CONTROL_PORT=str(control))
    demo = subprocess.Popen([sys.executable, "manage.py", "demo"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = _read_until(demo, "Ctrl-C stops everything", 180)
        assert f"demo is running at http://127.0.0.1:{web}/" in out, out
        assert "admin / e2e-demo-pass" in out
        assert f"FLEET_SIM_CONTROL_PORT={control} .venv/bin/python -m kpm37.simulator.ctl" in out
        assert "+ web ready" in out and "+ celery-worker ready" in out, out
        parts = psutil.Process(demo.pid).children(recursive=True)
        assert len(parts) >= 4
        assert _log_in(f"http://127.0.0.1:{web}", "admin", "e2e-demo-pass") != reverse("login")
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        demo.kill()
    assert all(_gone(part) for part in parts), [p.cmdline() for p in parts if not _gone(p)]
    assert (tmp_path / "log" / "web.log").exists()


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
