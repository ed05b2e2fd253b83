"""Production settings come from the environment and pass Django's deployment checklist."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
                          "DJANGO_SETTINGS_MODULE"}}
    clean.update(FLEET_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_deploy_check_passes_with_production_environment(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                     DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
                     ALLOWED_HOSTS="fleet.example.com")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_catches_debug_left_on(tmp_path: Path) -> None:
    # The same check must fail when the environment is wrong, or the test above proves nothing.
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                     DEBUG="1", SECRET_KEY=secrets.token_urlsafe(50),
                     ALLOWED_HOSTS="fleet.example.com")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", DEBUG="0", ALLOWED_HOSTS="fleet.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_no_project_package_shadows_the_standard_platform_module() -> None:
    import platform

    assert not (ROOT / "platform").exists()
    assert Path(platform.__file__).parent != ROOT


def test_bare_checkout_runs_makemigrations_but_refuses_to_serve_without_a_key() -> None:
    """A developer's `manage.py makemigrations` needs no secrets; anything that could serve or
    sign refuses in one line, without a traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "FLEET_OFFLINE_COMMAND"}}
    offline = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check",
                              "--dry-run"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=60)
    assert offline.returncode == 0, offline.stderr
    serving = subprocess.run([sys.executable, "manage.py", "check"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60)
    assert serving.returncode == 1
    assert serving.stderr.strip() == ("configuration error: SECRET_KEY must be set when DEBUG "
                                      "is off (see deploy/env.example)")
