"""Telemetry and alarm settings: Django settings of these names (config/settings.py reads
them from the environment), else the defaults here.

Read through functions (not module constants) so tests can override Django settings of the
same name with ``settings`` fixtures. Apps never import ``config``: settings come from
``django.conf.settings``.
"""

from __future__ import annotations

from django.conf import settings

_DEFAULTS = {
    # History older than this many days is deleted by the retention beat task.
    "TELEMETRY_RETENTION_DAYS": 400,
    # A meter whose clock differs from receive time by more than this raises "clock off".
    "TELEMETRY_CLOCK_TOLERANCE_S": 300,
    # Offline after this many missed upload (MQTT) or poll (Modbus) intervals.
    "TELEMETRY_OFFLINE_INTERVALS": 3,
    # An MQTT message larger than this (bytes) is a dead letter, not parsed. Keep it at or
    # below the broker's max_packet_size (deploy/mosquitto/kpm-fleet.conf).
    "TELEMETRY_MAX_MESSAGE_BYTES": 65536,
    # A dead letter keeps at most this many bytes of its payload (the reason says how many).
    "TELEMETRY_DEAD_LETTER_MAX_BYTES": 16384,
    # A reading whose meter time is more than this ahead of receive time is refused (a dead
    # letter "meter time out of range" plus the clock alarm): it would win "latest" until then.
    "TELEMETRY_FUTURE_TOLERANCE_S": 900,
    # Unknown tags kept per reading (in Reading.extra); never in the latest state.
    "TELEMETRY_MAX_EXTRA_TAGS": 64,
    # An energy counter rising faster than this many times the most the meter could deliver
    # continuously is an implausible jump (see meters/telemetry/trust.py).
    "TELEMETRY_COUNTER_JUMP_MARGIN": 2,
}


def get(name: str) -> int:
    """The setting ``name``: Django settings win over the environment default."""
    return int(getattr(settings, name, _DEFAULTS[name]))
