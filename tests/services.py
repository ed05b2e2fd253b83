"""Helpers for tests that need a real backing service (PostgreSQL, Redis, Mosquitto).

Call one at the start of a test (or fixture). When the service answers it returns its
(host, port). When it does not, the test is skipped on a developer machine, but FAILS under
FLEET_REQUIRE_SERVICES=1 (CI), so a missing service can never pass silently there.
"""

from __future__ import annotations

import os

import pytest

from config import services


def _require(name: str, address: tuple[str, int]) -> tuple[str, int]:
    if services.reachable(address):
        return address
    host, port = address
    reason = f"{name} is not reachable at {host}:{port}"
    if services.required():
        pytest.fail(f"{reason} and FLEET_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> tuple[str, int]:
    """(host, port) of PostgreSQL, or skip/fail the calling test."""
    return _require("PostgreSQL", services.POSTGRES)


def require_redis() -> tuple[str, int]:
    """(host, port) of Redis, or skip/fail the calling test."""
    return _require("Redis", services.REDIS)


def require_mosquitto() -> tuple[str, int]:
    """(host, port) of Mosquitto, or skip/fail the calling test."""
    return _require("Mosquitto", services.MOSQUITTO)


def redis_url(db: int | None = None) -> str:
    """URL of the test Redis (after require_redis()); tests should still prefix their keys.

    The default database is FLEET_TEST_REDIS_DB (0), so two checkouts testing at once keep
    their Celery queues apart."""
    host, port = require_redis()
    if db is None:
        db = int(os.environ.get("FLEET_TEST_REDIS_DB", "0"))
    return f"redis://{host}:{port}/{db}"


def mosquitto_url() -> str:
    """mqtt:// URL of the test Mosquitto (after require_mosquitto())."""
    host, port = require_mosquitto()
    return f"mqtt://{host}:{port}"


def require_tool(name: str) -> str:
    """Path of the command-line tool ``name`` (e.g. mbpoll, socat), or skip/fail the test.

    .ci/run installs every such tool, so under FLEET_REQUIRE_SERVICES=1 a missing one is a
    broken CI machine, not a reason to pass quietly."""
    import shutil
    from pathlib import Path

    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name,) if p.exists()), None)
    if path:
        return path
    reason = f"{name} is not installed"
    if services.required():
        pytest.fail(f"{reason} and FLEET_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)
