"""A simulated Modbus bus with three meters whose relays are in level mode, and a second
operator for the two-person rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from meters import roles
from tests.conftest import _persona
from tests.jobs.conftest import SimBus, make_sim_bus
from tests.telemetry.background import LoopThread


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def bus(db: None, loop: LoopThread) -> Iterator[SimBus]:
    made = make_sim_bus(loop)
    for sim in made.sims.values():
        for relay in ("do1", "do2"):
            sim.set_parameter(f"{relay}_output_mode", 0)  # level: close and open latch
    yield made
    loop.run(made.sim.stop())


@pytest.fixture
def second_operator(db: None) -> Any:
    """Another operator: approves what ``operator`` asked for."""
    return _persona("operator2", roles.OPERATOR)
