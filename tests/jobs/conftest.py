"""A simulated gateway with three KPM37 meters on real sockets, and their inventory rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kpm37.profile import load_profile
from kpm37.simulator.gateway import SimGateway, start_gateway
from kpm37.simulator.meter import SimMeter
from meters.jobs.tasks import run_gateway_jobs
from tests.factories import GatewayFactory, MeterFactory
from tests.telemetry.background import LoopThread

PROFILE = load_profile("kpm37")
ADDRESSES = (3, 7, 12)


@dataclass
class SimBus:
    """A simulated gateway (in a loop thread), its meters by address, and their rows."""

    sim: SimGateway
    sims: dict[int, SimMeter]
    gateway: Any
    meters: dict[int, Any]

    def run_jobs(self) -> dict[str, Any]:
        """What the dispatched task does: own the bus and run its queued jobs."""
        return run_gateway_jobs(self.gateway.pk)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def make_sim_bus(loop: LoopThread, baud: int = 38400, frame_gap_ms: int = 20,
                 timeout_ms: int = 300) -> SimBus:
    sims = {a: SimMeter(PROFILE, code=f"30710251000{a:02d}", address=a, seed=a)
            for a in ADDRESSES}
    host, port, sim = loop.run(start_gateway(list(sims.values()), baud=baud))
    gateway = GatewayFactory(host=host, port=port, timeout_ms=timeout_ms,
                             frame_gap_ms=frame_gap_ms)
    meters = {a: MeterFactory(gateway=gateway, address=a, poll_interval_s=3600)
              for a in ADDRESSES}
    return SimBus(sim, sims, gateway, meters)


@pytest.fixture
def bus(db: None, loop: LoopThread) -> Iterator[SimBus]:
    made = make_sim_bus(loop)
    yield made
    loop.run(made.sim.stop())
