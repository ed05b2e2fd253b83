"""Alarm tests reuse the telemetry fixtures (site, embedded broker)."""

from tests.telemetry.background import amqtt_url  # noqa: F401
from tests.telemetry.conftest import vienna  # noqa: F401
