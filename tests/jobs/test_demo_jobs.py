"""On the running demo (`manage.py demo`: SQLite, spool-broker Celery worker, embedded MQTT
broker, simulator), a write submitted through the API reaches verified on a Modbus and on an
MQTT meter: the embedded parts run jobs as the scaled-out ones do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.test_project_demo_e2e import ROOT, TEST_ONLY_ENV, _free_ports, _read_until


def _api(base: str, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - http:// on loopback only
        base + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
        return json.loads(answer.read())


def _until_final(base: str, token: str, job_id: int, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = _api(base, token, f"/api/jobs/{job_id}/")
        if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_api_writes_reach_verified_on_the_running_demo(tmp_path: Path) -> None:
    web, mqtt, modbus, control = _free_ports(1), _free_ports(1), _free_ports(1), _free_ports(1)
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    env.update(DEBUG="1", FLEET_VAR_DIR=str(tmp_path), FLEET_DEMO_PORT=str(web),
               FLEET_DEMO_MQTT_PORT=str(mqtt), FLEET_DEMO_MODBUS_PORT_BASE=str(modbus),
               FLEET_DEMO_GATEWAYS="1", FLEET_DEMO_METERS_PER_GATEWAY="2",
               FLEET_DEMO_MQTT_METERS="1", FLEET_DEMO_PASSWORD="jobs-demo-pass",
               FLEET_DEMO_CONTROL_PORT=str(control))
    demo = subprocess.Popen([sys.executable, "manage.py", "demo"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = _read_until(demo, "Ctrl-C stops everything", 180)
        assert "+ celery-worker ready" in out, out
        token = subprocess.run(
            [sys.executable, "manage.py", "drf_create_token", "operator"], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True).stdout.split()[2]
        base = f"http://127.0.0.1:{web}"
        for transport, ratio in (("modbus", 120), ("mqtt", 80)):
            meter = _api(base, token, f"/api/meters/?transport={transport}")["results"][0]
            job = _api(base, token, f"/api/meters/{meter['id']}/write/",
                       {"values": {"ct_ratio": ratio}, "reason": "demo check"})
            assert job["state"] == "queued"
            job = _until_final(base, token, job["id"])
            assert job["state"] == "verified", (transport, job)
            assert job["result"]["values"]["ct_ratio"] == ratio and job["evidence_sha256"]
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        demo.kill()
