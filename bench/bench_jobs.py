"""A relay job queued during a bulk billing read on the same bus: how soon does it start?

The whole job path is measured: ``job_submit`` (the outbox row, committed), the gateway's bus
owner (``gateway_poll`` with its claim, as the dispatched task runs it), the BusScheduler's
urgent lane, and a simulated 9600-baud RS485 gateway with the manual's 100 ms frame gap on a
real socket. The start delay is from the job's commit to its first frame on the simulated
bus (the simulator's own log, same monotonic clock), measured side by side in one run:

  idle: the bus has nothing else to do; the owner is started for the job (as its task is);
  busy: two meters' 13-month billing reads are on the wire when the relay job is queued.

Printed: both medians, busy/idle, and the busy delay in units of one 125-register read frame's
air time (``planner.airtime``): "within one frame" means at most about 1. ``--quick`` (or
BENCH_QUICK=1) runs 2 rounds instead of 5.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from typing import Any

from record import record
from webdb import throwaway_database

ROUNDS = 2 if ("--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1") else 5
BAUD, GAP = 9600, 0.1


class Loop:
    """The simulator's event loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


def build(loop: Loop) -> tuple[Any, Any, dict[int, Any]]:
    from kpm37.profile import load_profile
    from kpm37.simulator.codes import modbus_meter_code
    from kpm37.simulator.gateway import start_gateway
    from kpm37.simulator.meter import SimMeter
    from meters.choices import GatewayKind, TransportKind
    from meters.models import Gateway, Meter

    profile = load_profile("kpm37")
    sims = [SimMeter(profile, code=modbus_meter_code(0, a, 3), address=a, seed=a)
            for a in (1, 2, 3)]
    for sim in sims:
        sim.set_parameter("do1_output_mode", 0)  # level mode: close and open both verify
    host, port, sim_gateway = loop.run(start_gateway(sims, baud=BAUD))
    row = Gateway.objects.create(name="bench-jobs", kind=GatewayKind.MODBUS_TCP, host=host,
                                 port=port, timeout_ms=2000, frame_gap_ms=int(GAP * 1000))
    meters = {s.address: Meter.objects.create(code=s.code, transport=TransportKind.MODBUS,
                                              gateway=row, address=s.address,
                                              poll_interval_s=86400) for s in sims}
    return sim_gateway, row, meters


def owner(gateway_id: int) -> threading.Thread:
    """The bus owner, as the dispatched task runs it, in a thread of its own."""
    from django.db import connection

    from meters.telemetry.polling import gateway_poll

    def run() -> None:
        try:
            gateway_poll(gateway_id=gateway_id, meter_ids=[])
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def relay_delay(sim_gateway: Any, meter: Any, action: str) -> float:
    """Queue a relay job on ``meter``; seconds from its commit to its first frame."""
    from meters.jobs.services import job_submit

    seen = len(sim_gateway.log)
    queued = time.monotonic()
    job = job_submit(meter=meter, kind="relay", payload={"output": 1, "action": action})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mine = [r for r in sim_gateway.log[seen:] if r.unit == meter.address
                and r.address in (0x1030, 0x0001) and r.received > queued]
        if mine:
            job.refresh_from_db()
            return min(r.started for r in mine) - queued
        time.sleep(0.005)
    raise RuntimeError(f"relay job {job.pk} did not start: {job.state} {job.last_error}")


def measure(sim_gateway: Any, row: Any, meters: dict[int, Any]) -> tuple[list[float], list[float]]:
    from meters.jobs.services import job_submit

    idle, busy = [], []
    for n in range(ROUNDS):
        action = "close" if n % 2 == 0 else "open"
        thread = owner(row.pk)
        idle.append(relay_delay(sim_gateway, meters[3], action))
        thread.join(60)
        for address in (1, 2):
            job_submit(meter=meters[address], kind="read_billing")
        start = len(sim_gateway.log)
        thread = owner(row.pk)
        while len(sim_gateway.log) < start + 3:  # the billing reads are on the wire
            time.sleep(0.005)
        busy.append(relay_delay(sim_gateway, meters[3], "open" if action == "close" else "close"))
        thread.join(120)
    return idle, busy


def main() -> None:
    from kpm37.planner import ReadFrame, airtime

    with throwaway_database("jobs") as described:
        print(f"database: {described}")
        loop = Loop()
        sim_gateway, row, meters = build(loop)
        idle, busy = measure(sim_gateway, row, meters)
        frame = airtime(ReadFrame("holding", 0x009C, 125), BAUD, frame_gap=GAP)
        idle_ms, busy_ms = statistics.median(idle) * 1000, statistics.median(busy) * 1000
        print(f"relay job start delay, {ROUNDS} rounds, {BAUD} baud, gap {GAP * 1000:.0f} ms")
        print(f"  idle bus             median {idle_ms:7.1f} ms   max {max(idle) * 1000:7.1f} ms")
        print(f"  during billing reads median {busy_ms:7.1f} ms   max {max(busy) * 1000:7.1f} ms")
        print(f"  one 125-register read frame = {frame * 1000:.1f} ms")
        print(f"summary: busy/idle start delay x{busy_ms / idle_ms:.2f}; busy delay = "
              f"x{busy_ms / (frame * 1000):.2f} frame (median), "
              f"x{max(busy) / frame:.2f} frame (max)")
        record("relay_job_during_bulk_read", value=busy_ms, unit="ms median start delay",
               ratio=busy_ms / (frame * 1000),
               baseline="one 125-register read frame's air time at 9600 baud",
               target="ratio <= 1 (within one frame)", met=busy_ms <= frame * 1000,
               idle_ms=idle_ms, busy_max_ms=max(busy) * 1000, rounds=ROUNDS)
        loop.run(sim_gateway.stop())


if __name__ == "__main__":
    main()
