"""The Makefile's setup is idempotent, `make test` never passes with no tests, .ci/run is sane.

The Makefile runs in a scratch copy with a stand-in .venv/bin/python (a shell script), so these
tests exercise make's own logic without touching the real virtualenv.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def _touch_after(path: Path, reference: Path, seconds: int = 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    mtime = reference.stat().st_mtime + seconds
    os.utime(path, (mtime, mtime))


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of the Makefile and lock files with an up-to-date stand-in venv."""
    for name in ("Makefile", "requirements.txt", "package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho \"python $*\"\nexit ${FAKE_EXIT:-0}\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    _touch_after(tmp_path / ".venv" / ".requirements.stamp", tmp_path / "requirements.txt")
    _touch_after(tmp_path / "node_modules" / ".package-lock.json", tmp_path / "package-lock.json")
    return tmp_path


def test_setup_is_a_no_op_when_nothing_changed(scratch: Path) -> None:
    assert _make(scratch, "-q", "setup").returncode == 0


def test_changed_requirements_reinstall_and_changed_lock_reruns_npm_ci(scratch: Path) -> None:
    _touch_after(scratch / "requirements.txt", scratch / ".venv" / ".requirements.stamp")
    _touch_after(scratch / "package-lock.json", scratch / "node_modules" / ".package-lock.json")
    plan = _make(scratch, "-n", "setup").stdout
    assert "pip install" in plan and "-r requirements.txt" in plan
    assert "npm ci" in plan


def test_missing_node_modules_runs_npm_ci(scratch: Path) -> None:
    shutil.rmtree(scratch / "node_modules")
    assert "npm ci" in _make(scratch, "-n", "setup").stdout


def test_make_test_runs_pytest_in_parallel(scratch: Path) -> None:
    result = _make(scratch, "test")
    assert result.returncode == 0
    assert "python -m pytest -n 2" in result.stdout


def test_make_test_fails_loudly_when_no_tests_were_collected(scratch: Path) -> None:
    result = subprocess.run(["make", "--no-print-directory", "test"], cwd=scratch, text=True,
                            capture_output=True, timeout=60, env={**os.environ, "FAKE_EXIT": "5"})
    assert result.returncode != 0
    assert "collected no tests" in result.stderr


def test_make_lint_runs_every_check(scratch: Path) -> None:
    plan = _make(scratch, "-n", "lint").stdout
    for step in ("ruff check .", "mypy", "makemigrations --check --dry-run", "manage.py check"):
        assert step in plan


def test_ci_script_is_executable_valid_bash_and_requires_services() -> None:
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], timeout=10).returncode == 0
    assert "FLEET_REQUIRE_SERVICES=1 make test" in script.read_text()
