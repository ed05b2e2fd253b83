"""Fixtures for telemetry tests: MQTT meters with the capture codes, packet helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import MeterFactory, SiteFactory
from tests.telemetry.background import amqtt_url  # noqa: F401 - a fixture for these tests
from tests.telemetry.private_broker import broker  # noqa: F401 - a Mosquitto of its own

CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures"
CAPTURE_CODES = ("33B1225950027", "33B1225950028", "33B1225950029")


def capture_lines(name: str) -> list[bytes]:
    """The non-empty lines of a capture file, as raw payload bytes."""
    return [line for line in (CAPTURES / name).read_bytes().splitlines() if line.strip()]


@pytest.fixture
def vienna(db: None) -> Any:
    return SiteFactory(name="Vienna", timezone="Europe/Vienna")


@pytest.fixture
def capture_meters(vienna: Any) -> dict[str, Any]:
    """The three KPM33B meters of the captures, as MQTT meters in Vienna (CT 100:5)."""
    return {code: MeterFactory(mqtt=True, code=code, site=vienna, tenant=None, ct_ratio=20,
                               poll_interval_s=60)
            for code in CAPTURE_CODES}
