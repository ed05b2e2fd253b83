"""reconnect_storm: 20,000 meters flush their backlog at once after an outage.

A throwaway database (webdb.py) holds 20,000 MQTT meters; a private Mosquitto on loopback
(mqttfleet.py, the production queue limit of deploy/mosquitto: 100,000 messages a client)
and two ``manage.py ingest_mqtt`` processes on one shared subscription run as in production.
The meters come back together and each flushes what it kept during the outage: two RT_DATA
30 s apart and an ENY_NOW, all published at once (one publisher on behalf of every meter).

Measured side by side in the same run:

  drain      seconds from the first backlog message to the last one committed;
  memory     peak resident memory of each ingest process (VmHWM) and of the broker, against
             the stated cap (MEMORY_CAP_MB an ingest process);
  lost       messages published but not stored (must be 0);
  fleet page p95 of ``GET /`` (an admin) while the backlog drains / p95 with the same ingest
             idle, just before.

``--quick`` (BENCH_QUICK=1) runs 300 meters.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

from mqttfleet import (
    Consumers,
    IngestProcesses,
    broker_rss_kb,
    make_meters,
    private_broker,
    wait_stored,
)
from record import quick, record
from webdb import throwaway_database

SLOTS = 2  # RT_DATA in each of two 30-second slots, ENY_NOW in the last
MEMORY_CAP_MB = 300  # an ingest process, whatever the backlog (its inbox is bounded)
TARGET_P95_RATIO = 3.0
INGEST_PROCESSES = 2


def page_times(client: object, until: threading.Event | None, count: int) -> list[float]:
    """Seconds per ``GET /``: ``count`` requests, or until ``until`` is set."""
    times: list[float] = []
    while (until is None and len(times) < count) or (until is not None and not until.is_set()):
        started = time.perf_counter()
        response = client.get("/")  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"GET / answered {response.status_code} during the storm")
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else \
        times[0]


def main() -> int:
    from bench_fleet_page import admin_client

    meters = 300 if quick() else 20_000
    with throwaway_database("storm") as where:
        print(f"database: {where}")
        codes = make_meters(meters)
        client = admin_client()
        with private_broker() as port:
            ingest = IngestProcesses(port, INGEST_PROCESSES)
            try:
                storm = Consumers(port, codes, SLOTS, bare=False)
                idle = page_times(client, None, 10 if quick() else 40)
                print(f"{meters:,} meters flush {storm.count:,} messages at once into "
                      f"Mosquitto :{port}; {INGEST_PROCESSES} ingest_mqtt processes")
                drained = threading.Event()
                during: list[float] = []
                pager = threading.Thread(target=lambda: during.extend(
                    page_times(client, drained, 0)), daemon=True)
                storm.start()
                pager.start()
                started, published = storm.published()
                rows, stored_at = wait_stored(storm.count)
                drained.set()
                pager.join()
                peak_kb, broker_kb = ingest.peak_rss_kb(), broker_rss_kb(port)
            finally:
                tails = ingest.stop()
        from meters.telemetry.models import DeadLetter
        dead = DeadLetter.objects.count()
    for n, tail in enumerate(tails):
        print(f"  ingest {n}: {tail}")
    drain = stored_at - started
    lost = storm.count - rows
    ratio = p95(during) / p95(idle)
    print(f"  published in {published - started:.1f} s; drained {rows:,} of {storm.count:,} in "
          f"{drain:.1f} s ({rows / drain:,.0f} msg/s); {dead} dead letters")
    print(f"  memory peak: ingest {peak_kb / 1024:.0f} MB a process (cap {MEMORY_CAP_MB} MB), "
          f"broker {broker_kb / 1024:.0f} MB")
    print(f"  fleet page p95: idle {p95(idle) * 1000:.0f} ms ({len(idle)} requests), during "
          f"the storm {p95(during) * 1000:.0f} ms ({len(during)} requests): x{ratio:.2f}")
    met = not lost and not dead and peak_kb / 1024 <= MEMORY_CAP_MB and \
        ratio <= TARGET_P95_RATIO
    record("reconnect_storm", value=drain, unit="s to drain", ratio=ratio,
           baseline="fleet page p95 with ingest idle, same run",
           target=f"nothing lost, ingest <= {MEMORY_CAP_MB} MB, p95 ratio <= "
                  f"{TARGET_P95_RATIO}", met=met,
           meters=meters, messages=storm.count, lost=lost, dead_letters=dead,
           drain_rate=rows / drain, ingest_peak_rss_mb=peak_kb / 1024,
           broker_rss_mb=broker_kb / 1024, memory_cap_mb=MEMORY_CAP_MB,
           p95_idle_ms=p95(idle) * 1000, p95_storm_ms=p95(during) * 1000,
           requests_during=len(during))
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
