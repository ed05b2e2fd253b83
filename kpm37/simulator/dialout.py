"""A simulated 4G/WiFi meter in "Modbus-RTU transparent" mode: it dials out to the platform.

It connects, optionally sends its 13-character code as a registration packet, then answers RTU
requests on that same socket with the usual bus timing and faults.
"""

from __future__ import annotations

import asyncio

from kpm37.simulator.gateway import MeterLike, SimGateway
from kpm37.simulator.rs485 import BusTiming


async def dial_in(
    meter: MeterLike,
    host: str,
    port: int,
    *,
    register: bool = True,
    timing: BusTiming | None = None,
) -> tuple[SimGateway, asyncio.Task[None]]:
    """Connect ``meter`` to a platform listening at host:port; returns its one-meter gateway
    (for the request log) and the task serving the connection (cancel it to hang up)."""
    gateway = SimGateway([meter], framer="rtu", timing=timing, name=f"dial-in {meter.address}")
    reader, writer = await asyncio.open_connection(host, port)
    if register:
        writer.write(str(getattr(meter, "code", "")).encode("ascii"))
        await writer.drain()
    task = asyncio.create_task(gateway.serve_streams(reader, writer))
    return gateway, task
