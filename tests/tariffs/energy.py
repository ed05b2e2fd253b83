"""Helpers for tariff tests on simulated meters: run a meter's clock through a local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kpm37.quantities import Rate, rate_counter


def bill_one_day(sim: Any, day: datetime) -> dict[int, float]:
    """Hours the simulated meter bills to each rate over the local day starting at ``day``,
    measured from its energy counters at a steady load (kWh / kW); rates with none left out."""
    fake = [datetime.now(UTC)]
    sim.clock.utc_source = lambda: fake[0]
    sim.set_load(voltage=230.0, current=10.0, power_factor=1.0)
    sim.clock.set_local(day)
    sim.tick()
    before = sim.quantities()
    power = before["active_power_total"]
    fake[0] += timedelta(days=1)
    sim.tick()
    after = sim.quantities()
    hours = {}
    for rate in Rate:
        name = rate_counter("import", rate)
        billed = (after[name] - before[name]) / power
        if billed > 1e-6:
            hours[int(rate)] = round(billed, 4)
    return hours
