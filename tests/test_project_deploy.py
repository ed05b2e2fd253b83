"""deploy/ works as written, as far as this machine can show: units, compose, gunicorn, nginx."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.services import require_tool

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
APP_SERVICES = {"migrate", "web", "worker", "beat", "ingest"}
UNITS = ["kpm-fleet.target", "kpm-fleet-migrate.service", "kpm-fleet-web.service",
         "kpm-fleet-beat.service", "kpm-fleet-worker@celery.service",
         "kpm-fleet-ingest@1.service", "kpm-fleet-dialin@gw-4g.service"]


def _env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
             if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_systemd_units_verify(tmp_path: Path) -> None:
    require_tool("systemd-analyze")
    # Point the units at this checkout so systemd can check that every ExecStart exists.
    (tmp_path / "env").write_text((DEPLOY / "env.example").read_text())
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/etc/kpm-fleet/env", str(tmp_path / "env"))
        (tmp_path / unit.name).write_text(text.replace("/opt/kpm-fleet", str(ROOT)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *[f"./{unit}" for unit in UNITS]], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # parse warnings do not fail the exit code


def test_compose_file_has_every_part_of_the_production_layout() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == APP_SERVICES | {"postgres", "redis", "mosquitto", "nginx", "certs"}
    assert {services[name]["image"] for name in APP_SERVICES} == {"kpm-fleet:latest"}
    assert services["ingest"]["deploy"]["replicas"] >= 2
    assert "replicas" not in services["beat"].get("deploy", {})  # one beat, never two
    for name in APP_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully")
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_compose_mounts_and_build_files_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), source
    build = compose["services"]["web"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_env_example_names_every_variable_the_settings_read() -> None:
    settings = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', settings))
    assert read, "settings read no variables? the pattern is out of date"
    assert read <= set(_env_example()), sorted(read - set(_env_example()))


def test_env_example_passes_the_deploy_check(tmp_path: Path) -> None:
    env = {**os.environ, **_env_example(), "FLEET_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                             "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str], deadline: float) -> int:
    """Status of one GET (redirects not followed), retrying while the server starts."""
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            return connection.getresponse().status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
        finally:
            connection.close()


@pytest.mark.timeout(90)
def test_gunicorn_serves_the_app_behind_a_tls_proxy(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, **_env_example(), "FLEET_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "config.settings", "ALLOWED_HOSTS": "fleet.example.com",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"}
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                               "config.wsgi"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        plain = _get(port, "/api/schema/", {"Host": "fleet.example.com"}, deadline)
        proxied = _get(port, "/api/schema/", {"Host": "fleet.example.com",
                                              "X-Forwarded-Proto": "https"}, deadline)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert plain == 301  # plain HTTP is sent to HTTPS
    assert proxied != 301  # nginx's X-Forwarded-Proto from loopback is trusted


@pytest.mark.parametrize("conf", ["kpm-fleet.conf", "compose.conf"])
def test_nginx_config_passes_nginx_t(tmp_path: Path, conf: str) -> None:
    require_tool("nginx")
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(certs / "privkey.pem"),
                    "-out", str(certs / "fullchain.pem")], check=True, capture_output=True,
                   timeout=60)
    site = (DEPLOY / "nginx" / conf).read_text().replace("/etc/ssl/kpm-fleet", str(certs))
    # "web" resolves only inside compose; nginx -t resolves upstream names.
    (tmp_path / "site.conf").write_text(site.replace("server web:8000", "server 127.0.0.1:8000"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n access_log off;\n include {tmp_path}/site.conf;\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p",
                             str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
