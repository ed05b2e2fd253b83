"""The one interface every transport implements: register-level reads and writes.

Modbus TCP, RTU over TCP, LoRa, 4G/WiFi dial-in, local serial and Compere MQTT V1.9 all move
16-bit holding registers and relay coils; the codec, planner and scheduler above them never
know which one they are talking through.
"""

from __future__ import annotations

from typing import Protocol


class RegisterBus(Protocol):
    """Register-level access to meters behind one link. ``unit`` is the Modbus address (1-247).

    Implementations raise only :mod:`kpm37.errors` types and never hang past their timeout.
    A BusScheduler is one, and so is every Transport.
    """

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]: ...

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None: ...

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]: ...

    async def write_coil(self, unit: int, address: int, value: bool) -> None: ...


class Transport(RegisterBus, Protocol):
    """A link that owns its connection: register access plus ``close()``."""

    async def close(self) -> None: ...
