"""Helpers shared by the MQTT tests: a hand-moved clock, simulated meters and their sessions.

Used by test_mqtt_meter.py (amqtt), test_mqtt_mosquitto.py (Mosquitto) and test_broker.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from kpm37.profile import load_profile
from kpm37.simulator.clock import SimClock
from kpm37.simulator.meter import SimMeter
from kpm37.simulator.mqtt_meter import MqttMeterSession

PROFILE = load_profile("kpm37")
TIMEOUT_S = 60


class ManualUtc:
    """A UTC source the test moves by hand, so meter values hold still while compared."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def unique_code() -> str:
    """A KPM37 WiFi meter code with a random serial, so runs on a shared broker never mix."""
    return f"30712263{random.randrange(100_000):05d}"  # KPM37, abroad, WiFi, 2026 March


def make_meter(utc: ManualUtc | None = None) -> SimMeter:
    """A KPM37 simulated meter with a unique code and level (not pulsed) relay outputs."""
    clock = SimClock(utc_source=utc) if utc is not None else None
    meter = SimMeter(PROFILE, code=unique_code(), address=1, clock=clock)
    for relay in ("do1", "do2"):
        meter.set_parameter(f"{relay}_output_mode", 0)  # level, not a 200 ms pulse
    return meter


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a test scenario in a fresh event loop, failing it after TIMEOUT_S."""
    asyncio.run(asyncio.wait_for(coro, TIMEOUT_S))


@contextlib.asynccontextmanager
async def running(meters: Sequence[SimMeter], url: str, **options: Any,
                  ) -> AsyncIterator[list[MqttMeterSession]]:
    """Connect one MQTT session per meter and run them until the block exits."""
    sessions = [MqttMeterSession(m, url, **options) for m in meters]
    await asyncio.gather(*(s.connect() for s in sessions))
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    try:
        yield sessions
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for session in sessions:
            await session.close()
