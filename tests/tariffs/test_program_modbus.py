"""Programming a plan into simulated meters over Modbus, as meter jobs: the clock is set
first, the standby set is written and read back before the switch-over, the meter then bills
its energy to the rates the plan predicts, and a meter that goes silent half-way keeps its
old active set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from meters.jobs.choices import JobState
from meters.jobs.models import MeterJob
from tariffs import services
from tariffs.document import parse_plan
from tariffs.tou_status import meter_tou_status
from tests.jobs.conftest import SimBus, make_sim_bus
from tests.tariffs.energy import bill_one_day
from tests.telemetry.background import LoopThread

pytestmark = pytest.mark.django_db
FLAT_ALL_DAY = {"zones": [{"start": "01-01", "day_table": 1}],
                "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}


@pytest.fixture
def bus(db: None) -> Iterator[SimBus]:
    loop = LoopThread()
    made = make_sim_bus(loop)
    yield made
    loop.run(made.sim.stop())
    loop.close()


def summer_from_2027(guangdong: dict[str, Any]) -> dict[str, Any]:
    """Flat all day until 1 July 2027, then the Guangdong tables (the standby set)."""
    return guangdong | {"name": "Flat, then Guangdong", "sets": [FLAT_ALL_DAY,
                                                                  guangdong["sets"][0]],
                        "switch_zones_at": "2027-07-01T00:00",
                        "switch_day_tables_at": "2027-07-01T00:00"}


def program(bus: SimBus, address: int, document: dict[str, Any]) -> MeterJob:
    version = services.tariff_plan_create(document=parse_plan(document).document)
    meter = bus.meters[address]
    services.tariff_plan_assign(plan=version.plan, meters=[meter], labels=[])
    job = services.tariff_program_meter(meter=meter, reason="test")
    bus.run_jobs()
    job.refresh_from_db()
    return job


def test_the_meter_bills_to_the_plans_rates_after_the_switch_over(
        bus: SimBus, guangdong: dict[str, Any]) -> None:
    sim = bus.sims[3]
    sim.clock.set_local(datetime(2020, 1, 1, 3, 0))
    job = program(bus, 3, summer_from_2027(guangdong))
    assert job.state == JobState.VERIFIED, job.failure
    assert any("clock was 2020-01-01" in step for step in job.result["steps"])
    site_zone = ZoneInfo(bus.meters[3].site.timezone)
    site_now = datetime.now(UTC).astimezone(site_zone).replace(tzinfo=None)
    assert abs(sim.parameter("clock") - site_now) < timedelta(minutes=1)
    states = meter_tou_status(bus.meters[3])["sets"]  # from the values the job read back
    assert [(s.which, s.state, s.when) for s in states] == [
        ("active", "in-sync", None), ("standby", "pending", datetime(2027, 7, 1))]

    june = bill_one_day(sim, datetime(2027, 6, 30))
    assert june == pytest.approx({3: 24.0}, abs=0.01)  # hours per rate, from energy
    july = bill_one_day(sim, datetime(2027, 7, 1))
    assert july == pytest.approx({1: 3.0, 2: 4.0, 3: 9.0, 4: 8.0}, abs=0.01)


def test_a_meter_silent_half_way_keeps_its_old_active_set(
        bus: SimBus, guangdong: dict[str, Any]) -> None:
    sim = bus.sims[7]
    before = {n: sim.parameter(n) for n in ("tou_active_set", "tou_day_switch_at")}
    writes = 0
    original = sim.write_registers

    def goes_silent(address: int, values: list[int]) -> None:
        nonlocal writes
        original(address, values)
        writes += 1 if address >= 0x2000 else 0
        if writes == 2:  # in the middle of the standby set
            sim.faults.silent = True

    sim.write_registers = goes_silent  # type: ignore[method-assign]
    job = program(bus, 7, guangdong)
    assert writes == 2 and job.state == JobState.QUEUED  # to be retried, not verified
    assert "time" in job.last_error.lower()
    assert {n: sim.parameter(n) for n in before} == before
    assert bill_one_day(sim, datetime(2027, 7, 1)) == pytest.approx(
        {1: 4.0, 2: 2.0, 3: 10.0, 4: 8.0}, abs=0.01)  # the simulator's own tables still bill

    sim.faults.silent = False  # it answers again: the retry carries on and finishes
    sim.write_registers = original  # type: ignore[method-assign]
    time.sleep(2.5)  # the first retry waits 2 s (docs/jobs.md)
    bus.run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.VERIFIED, job.failure or job.last_error
    assert bill_one_day(sim, datetime(2027, 7, 2)) == pytest.approx(
        {1: 3.0, 2: 4.0, 3: 9.0, 4: 8.0}, abs=0.01)


def test_a_refused_programming_shows_as_failed_with_the_meters_reason(
        bus: SimBus, guangdong: dict[str, Any], settings: Any) -> None:
    settings.METER_PASSWORD = 1234  # not the meter's: every protected write is refused
    bus.sims[12].clock.set_local(datetime.now(UTC).astimezone(
        ZoneInfo(bus.meters[12].site.timezone)).replace(tzinfo=None))
    job = program(bus, 12, guangdong)
    assert job.state == JobState.FAILED
    assert "Modbus exception 4" in job.failure
    states = meter_tou_status(bus.meters[12])["sets"]
    assert [s.state for s in states] == ["failed", "failed"]
    assert "Modbus exception 4" in states[0].why
