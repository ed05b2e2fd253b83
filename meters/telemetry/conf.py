"""Telemetry and alarm settings, each from the environment with a safe default.

Read through functions (not module constants) so tests can override Django settings of the
same name with ``settings`` fixtures.
"""

from __future__ import annotations

from django.conf import settings

from config.env import env_int

_DEFAULTS = {
    # History older than this many days is deleted by the retention beat task.
    "TELEMETRY_RETENTION_DAYS": env_int("TELEMETRY_RETENTION_DAYS", 400),
    # A meter whose clock differs from receive time by more than this raises "clock off".
    "TELEMETRY_CLOCK_TOLERANCE_S": env_int("TELEMETRY_CLOCK_TOLERANCE_S", 300),
    # Offline after this many missed upload (MQTT) or poll (Modbus) intervals.
    "TELEMETRY_OFFLINE_INTERVALS": env_int("TELEMETRY_OFFLINE_INTERVALS", 3),
    # Rows per INSERT when writing a batch of readings.
    "TELEMETRY_BULK_SIZE": env_int("TELEMETRY_BULK_SIZE", 500),
}


def get(name: str) -> int:
    """The setting ``name``: Django settings win over the environment default."""
    return int(getattr(settings, name, _DEFAULTS[name]))
