"""gateway_scaling: the same poll work on 1, 8 and 32 gateways at once, through Celery.

Every gateway carries the same work, 4 simulated KPM37 meters on a 9600-baud bus (weak
scaling: a utility adds gateways as it adds meters, and every bus is independent, so 32
gateways should finish in the time of one). The simulator (``python -m kpm37.simulator``, its
own process) serves 32 Modbus TCP gateways on loopback; a throwaway database (webdb.py) holds
the gateways and meters; a real Celery worker (thread pool, 32 slots, Redis broker on a queue
of this run's own) runs ``poll_gateway`` as production does: claim, bus cycle, store through
``readings_store``.

Per level the meters are made due, one ``poll_gateway`` task per gateway is queued, and the
wall time until every PollRun of the level has finished is taken. Throughput = meters read / s;
efficiency(n) = throughput(n) / (n x throughput(1)), measured side by side in the same run
(levels in rotating order, best of the rounds). ``--quick``: 1 and 2 gateways of 1 meter, 1 round.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta

from record import quick, record
from webdb import ROOT, production_env, throwaway_database

METERS_PER_GATEWAY = 1 if quick() else 4
TARGET = 0.9


def start_simulator(gateways: int) -> tuple[subprocess.Popen[str], list[int]]:
    """The simulated gateways on free loopback ports; returns the process and the ports."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpm37.simulator", "--gateways", str(gateways),
         "--meters-per-gateway", str(METERS_PER_GATEWAY), "--modbus-port-base", "0",
         "--baud", "9600"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ports: list[int] = []
    assert proc.stdout is not None
    while len(ports) < gateways:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the simulator stopped before listening")
        found = re.search(r"gateway \d+ listening on [\d.]+:(\d+)", line)
        if found:
            ports.append(int(found.group(1)))
    return proc, ports


def make_fleet(ports: list[int]) -> list[int]:
    """One Gateway row per simulated gateway, its meters at addresses 1..M; gateway ids."""
    from kpm37.simulator.codes import modbus_meter_code
    from meters.models import Gateway, Meter, Site

    site = Site.objects.create(name="bench", timezone="UTC")
    ids = []
    for g, port in enumerate(ports):
        gateway = Gateway.objects.create(name=f"gw-{g:02d}", kind="modbus-tcp",
                                         host="127.0.0.1", port=port, site=site)
        meters = [Meter(code=modbus_meter_code(g, a, METERS_PER_GATEWAY), transport="modbus",
                        gateway=gateway, address=a, site=site)
                  for a in range(1, METERS_PER_GATEWAY + 1)]
        for meter in meters:
            meter.fill_decoded_code()
        Meter.objects.bulk_create(meters)
        ids.append(gateway.pk)
    return ids


def start_worker(queue: str, concurrency: int) -> subprocess.Popen[bytes]:
    env = {**production_env(), "LOG_LEVEL": "WARNING"}
    log = open(os.environ["FLEET_VAR_DIR"] + "/worker.log", "wb")  # noqa: SIM115 (lives on)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n",
         f"{queue}@%h", "--pool", "threads", "--concurrency", str(concurrency),
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def poll_level(gateway_ids: list[int], queue: str, timeout_s: float = 300
               ) -> tuple[float, float, float]:
    """Queue one poll per gateway, wait for every PollRun (fails on errors); (wall seconds,
    the last run's start after queueing, the slowest run's own duration)."""
    from django.utils import timezone

    from meters.telemetry.models import PollRun, PollState
    from meters.telemetry.tasks import poll_gateway

    past = timezone.now() - timedelta(seconds=1)
    queued = timezone.now()
    PollState.objects.filter(meter__gateway_id__in=gateway_ids).update(next_poll_at=past)
    first = PollRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    for gateway_id in gateway_ids:
        poll_gateway.apply_async((gateway_id,), queue=queue)
    deadline = time.monotonic() + timeout_s
    while True:
        runs = PollRun.objects.filter(pk__gt=first, finished_at__isnull=False)
        if runs.count() >= len(gateway_ids):
            wall = time.perf_counter() - started
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(gateway_ids)} gateways: polls did not finish in {timeout_s} s")
        time.sleep(0.05)
    failed = sum(r.meters_failed for r in runs)
    ok = sum(r.meters_ok for r in runs)
    if failed or ok != len(gateway_ids) * METERS_PER_GATEWAY:
        raise SystemExit(f"{len(gateway_ids)} gateways: {ok} meters read, {failed} failed")
    last_start = max(r.started_at for r in runs) - queued
    slowest = max(r.finished_at - r.started_at for r in runs)
    return wall, last_start.total_seconds(), slowest.total_seconds()


def main() -> int:
    levels, rounds = ((1, 2), 1) if quick() else ((1, 8, 32), 2)
    queue = f"bench-scaling-{os.getpid()}"
    redis = f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '15')}"
    os.environ.update(CELERY_BROKER_URL=redis, REDIS_URL=redis)
    with throwaway_database("scaling") as where:
        print(f"database: {where}")
        sim, ports = start_simulator(levels[-1])
        worker = start_worker(queue, levels[-1])
        try:
            ids = make_fleet(ports)
            poll_level(ids[:1], queue, timeout_s=120)  # warm-up: worker up, first connections
            best: dict[int, float] = {}
            for r in range(rounds):
                order = levels[r % len(levels):] + levels[:r % len(levels)]
                for n in order:
                    wall, lag, slowest = poll_level(ids[:n], queue)
                    best[n] = min(best.get(n, wall), wall)
                    print(f"  round {r + 1}: {n:2d} gateway(s) x {METERS_PER_GATEWAY} meters "
                          f"in {wall:6.2f} s (last run started {lag:.2f} s after queueing; "
                          f"slowest run {slowest:.2f} s)")
        finally:
            worker.terminate()
            sim.terminate()
            worker.wait(30)
            sim.wait(30)
    base = METERS_PER_GATEWAY / best[1]
    for n in levels:
        throughput = n * METERS_PER_GATEWAY / best[n]
        eff = throughput / (n * base)
        print(f"  {n:2d} gateway(s): {throughput:6.2f} meters/s, efficiency {eff:.2f}")
    top = levels[-1]
    eff_top = top * METERS_PER_GATEWAY / best[top] / (top * base)
    record("gateway_scaling", value=top * METERS_PER_GATEWAY / best[top], unit="meters/s",
           ratio=eff_top, baseline=f"{top} x the throughput of 1 gateway, same run",
           target=f"efficiency >= {TARGET} at {top}", met=eff_top >= TARGET,
           gateways=top, meters_per_gateway=METERS_PER_GATEWAY, baud=9600,
           **{f"seconds_{n}": best[n] for n in levels})
    return 0


if __name__ == "__main__":
    sys.exit(main())
