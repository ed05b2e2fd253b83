"""Deterministic meter codes for a simulated fleet, shared by the simulator and the demo seeder.

Gateway ``g`` (0-based), address ``a`` (1-based) gets serial ``g * meters_per_gateway + a``;
MQTT meters are WiFi meters numbered after them, so the two sides agree without talking.
Serials have four digits: past 9999 the production year steps back one, which keeps codes
unique for fleets far larger than a simulator runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from kpm37.metercode import make_meter_code

T = TypeVar("T")

MAX_SERIAL = 9999


def modbus_meter_code(gateway: int, address: int, meters_per_gateway: int,
                      model: str = "307") -> str:
    """Code of the meter at ``address`` on simulated gateway ``gateway``."""
    fold, serial = divmod(gateway * meters_per_gateway + address - 1, MAX_SERIAL)
    return make_meter_code(model=model, communication="0", year=25 - fold, month=1,
                           serial=serial + 1)


def mqtt_meter_code(index: int, model: str = "307") -> str:
    """Code of the ``index``-th (0-based) simulated MQTT meter."""
    fold, serial = divmod(index, MAX_SERIAL)
    return make_meter_code(model=model, communication="2", year=25 - fold, month=9,
                           serial=serial + 1)


def round_robin(index: int, choices: Sequence[T]) -> T:
    """The choice for the ``index``-th gateway or MQTT meter (0-based): the demo seeder puts
    them on sites this way and the simulator runs their clocks in those sites' time zones."""
    return choices[index % len(choices)]
