"""Which backing services the test suite runs against, decided once per run.

With FLEET_REQUIRE_SERVICES=1 (CI) the suite uses PostgreSQL, Redis and Mosquitto on loopback and
a test that needs a missing one fails. Without it, each is used when it answers and otherwise
replaced by its embedded fallback (SQLite, the spool broker, the in-process MQTT broker).
"""

from __future__ import annotations

import os
import socket

POSTGRES = ("127.0.0.1", int(os.environ.get("FLEET_PG_PORT", "5432")))
REDIS = ("127.0.0.1", int(os.environ.get("FLEET_REDIS_PORT", "6379")))
MOSQUITTO = ("127.0.0.1", int(os.environ.get("FLEET_MQTT_PORT", "1883")))


def required() -> bool:
    return os.environ.get("FLEET_REQUIRE_SERVICES", "") == "1"


def reachable(address: tuple[str, int], timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False
