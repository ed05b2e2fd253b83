"""MQTT ingest storage at fleet scale: PacketBatcher batches against one transaction per message.

A throwaway database (see webdb.py) gets two equal sets of MQTT meters. Both are fed the same
kind of traffic, built from the captured KPM33B payloads (tests/fixtures/captures/): per meter,
one MQTT_ENY_NOW a minute with rising energy counters and one MQTT_RT_DATA every 30 s, time-major
as a broker delivers it, meter clocks near now so no clock alarm fires. Timed side by side in
alternating rounds, so both see the same CPU contention and similar table sizes:

  batched   PacketBatcher.feed per packet, commit() every 500 packets (what ``ingest_mqtt``
            does), i.e. one mqtt_batch_ingest transaction per 500 messages;
  naive     parse_message, then mqtt_batch_ingest with that single message: one transaction
            per message (fewer messages, it is much slower).

Printed: messages/s of both and their ratio; the batched rate against what a 10,000-meter fleet
needs (ENY_NOW each minute + RT_DATA every 30 s); and, on a third meter set under tracemalloc,
the batched path's peak memory per 1,000 messages of a batch as a ratio to their payload bytes.
``--quick`` (or BENCH_QUICK=1) runs a tiny fleet.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from record import quick, record
from webdb import ROOT, throwaway_database

CAPTURES = ROOT / "tests" / "fixtures" / "captures"
SITE_TZ = "Europe/Vienna"
BATCH = 500
FLEET = 10_000
FLEET_RATE = FLEET * (1 / 60 + 1 / 30)  # ENY_NOW each minute + RT_DATA every 30 s
# The captured meter carries ~10 A a phase: behind 100/5 A CTs that is normal load, while at CT
# ratio 1 (In 5 A) every RT_DATA repeats an over-current and an overload alarm.
QUIET_CT_RATIO, STORM_CT_RATIO = 20, 1
Packet = tuple[str, bytes]


@dataclass(frozen=True)
class Sizes:
    """How big a run is."""

    meters: int  # per meter set
    batched: int  # messages through PacketBatcher, no alarms
    naive: int  # messages stored one transaction each, no alarms
    storm: int  # messages through PacketBatcher, each RT_DATA repeating two alarms
    memory: int  # messages through PacketBatcher under tracemalloc
    rounds: int


FULL = Sizes(meters=2_000, batched=8_000, naive=1_000, storm=3_000, memory=2_000, rounds=2)
QUICK = Sizes(meters=50, batched=600, naive=100, storm=300, memory=500, rounds=2)


def _capture(name: str) -> dict[str, object]:
    return dict(json.loads((CAPTURES / name).read_text()))


def traffic(codes: list[str], count: int) -> list[Packet]:
    """``count`` packets for ``codes``, time-major: each 30 s slot an RT_DATA from every meter,
    every other slot an ENY_NOW too; the newest slot is now (meter-local time)."""
    rt, eny = _capture("kpm33b_MQTT_RT_DATA.json"), _capture("kpm33b_MQTT_ENY_NOW.json")
    per_minute = 3 * len(codes)
    slots = 2 * -(-count // per_minute)
    newest = datetime.now(ZoneInfo(SITE_TZ)).replace(tzinfo=None, microsecond=0)
    packets: list[Packet] = []
    for slot in range(slots):
        stamp = (newest - timedelta(seconds=30 * (slots - 1 - slot))).strftime("%Y%m%d%H%M%S")
        for n, code in enumerate(codes):
            wobble = 1 + ((n + slot) % 7) / 1000  # live values differ a little per message
            packets.append(("MQTT_RT_DATA", _payload(rt, code, stamp, wobble, add=0.0)))
            if slot % 2 == 0:  # energy counters rise 0.05 kWh a minute
                packets.append(("MQTT_ENY_NOW", _payload(eny, code, stamp, 1.0, add=slot / 40)))
    return packets[:count]


def _payload(template: dict[str, object], code: str, stamp: str, scale: float,
             add: float) -> bytes:
    body: dict[str, object] = {}
    for tag, value in template.items():
        body[tag] = round(float(value) * scale + add, 4) if isinstance(value, float) else value
    body.update(id=code, time=stamp)
    return json.dumps(body, separators=(",", ":")).encode()


def run_batched(packets: list[Packet]) -> float:
    """Feed through PacketBatcher, committing every BATCH packets; returns seconds."""
    from meters.telemetry.batching import PacketBatcher

    started = time.perf_counter()
    batcher = PacketBatcher()
    for token, (topic, payload) in enumerate(packets):
        batcher.feed(topic, payload, token=token)
        if len(batcher) >= BATCH:
            batcher.commit()
    batcher.commit(flush=True)
    return time.perf_counter() - started


def run_naive(packets: list[Packet]) -> float:
    """Parse and store each message in its own transaction; returns seconds."""
    from kpm37.mqtt.payload import parse_message
    from meters.telemetry.mqtt_services import mqtt_batch_ingest

    started = time.perf_counter()
    for topic, payload in packets:
        mqtt_batch_ingest(messages=[parse_message(payload, topic)])
    return time.perf_counter() - started


def make_meters(first: int, count: int, ct_ratio: int = QUIET_CT_RATIO) -> list[str]:
    """Bulk-create ``count`` MQTT meters (simulator codes from index ``first``) on one site."""
    from kpm37.simulator.codes import mqtt_meter_code
    from meters.models import Meter, Site

    site, _ = Site.objects.get_or_create(name="bench", defaults={"timezone": SITE_TZ})
    meters = [Meter(code=mqtt_meter_code(first + i), transport="mqtt", site=site,
                    ct_ratio=ct_ratio) for i in range(count)]
    for meter in meters:
        meter.fill_decoded_code()  # bulk_create skips save(), which fills these
    Meter.objects.bulk_create(meters, batch_size=1000)
    return [m.code for m in meters]


def _chunks(items: list[Packet], parts: int) -> list[list[Packet]]:
    size = -(-len(items) // parts)
    return [items[i:i + size] for i in range(0, len(items), size)]


def side_by_side(sizes: Sizes) -> dict[str, float]:
    """Messages/s of each candidate, timed in alternating rounds, each on its own meter set."""
    n = sizes.meters
    candidates = [("batched", run_batched, traffic(make_meters(0, n), sizes.batched)),
                  ("naive", run_naive, traffic(make_meters(n, n), sizes.naive)),
                  ("alarm storm", run_batched,
                   traffic(make_meters(2 * n, n, STORM_CT_RATIO), sizes.storm))]
    spent = dict.fromkeys((label for label, _, _ in candidates), 0.0)
    for round_no in range(sizes.rounds):
        # Rotate who goes first so drift in machine load favours no candidate.
        shift = round_no % len(candidates)
        for label, run, packets in candidates[shift:] + candidates[:shift]:
            spent[label] += run(_chunks(packets, sizes.rounds)[round_no])
    return {label: len(packets) / spent[label] for label, _, packets in candidates}


def memory(sizes: Sizes) -> tuple[int, int, int]:
    """(peak traced bytes above the start, payload bytes of one batch, peak after batch 1)."""
    from meters.telemetry.batching import PacketBatcher

    packets = traffic(make_meters(3 * sizes.meters, sizes.meters), sizes.memory)
    batch_bytes = sum(len(p) for _, p in packets[:BATCH]) * 1000 // min(BATCH, len(packets))
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    first_peak = 0
    batcher = PacketBatcher()
    for token, (topic, payload) in enumerate(packets):
        batcher.feed(topic, payload, token=token)
        if len(batcher) >= BATCH:
            batcher.commit()
            first_peak = first_peak or tracemalloc.get_traced_memory()[1] - base
    batcher.commit(flush=True)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak, batch_bytes, first_peak or peak


def check_stored(sizes: Sizes) -> str:
    """What landed, so a fast but wrong path would show."""
    from meters.alarms.models import Alarm
    from meters.telemetry.models import DeadLetter, Reading

    expected = sizes.batched + sizes.naive + sizes.storm + sizes.memory
    return (f"stored {Reading.objects.count()} of {expected} readings, "
            f"{DeadLetter.objects.count()} dead letters, {Alarm.objects.count()} alarms "
            f"(expected only on the alarm-storm meters)")


def main() -> int:
    sizes = QUICK if quick() else FULL
    with throwaway_database("ingest") as where:
        print(f"database: {where}")
        print(f"{sizes.meters} MQTT meters per candidate; batches of {BATCH}; messages: "
              f"batched {sizes.batched}, naive {sizes.naive} (one transaction each), "
              f"alarm storm {sizes.storm}; {sizes.rounds} rotating rounds")
        rates = side_by_side(sizes)
        peak, per_k_bytes, first_peak = memory(sizes)
        print(f"  {check_stored(sizes)}")
    report(rates, sizes, peak, per_k_bytes, first_peak)
    return 0


def report(rates: dict[str, float], sizes: Sizes, peak: int, per_k_bytes: int,
           first_peak: int) -> None:
    for label, rate in rates.items():
        print(f"  {label:12} {rate:9,.0f} messages/s  x{rate / rates['naive']:5.1f} of naive  "
              f"x{rate / FLEET_RATE:.2f} of a {FLEET:,}-meter fleet")
    ratio = rates["batched"] / rates["naive"]
    headroom = rates["batched"] / FLEET_RATE
    print(f"  batched/naive x{ratio:.1f}; headroom x{headroom:.2f} of what {FLEET:,} meters "
          f"need ({FLEET_RATE:,.0f} msg/s: ENY_NOW 1/min + RT_DATA 1/30 s); alarm storm/batched "
          f"x{rates['alarm storm'] / rates['batched']:.2f}")
    per_k = peak * 1000 // BATCH
    print(f"  memory: peak {peak / 1e6:.1f} MB over {sizes.memory} messages = "
          f"{per_k / 1e6:.2f} MB per 1,000 messages of a batch, x{per_k / per_k_bytes:.1f} "
          f"their payload bytes ({per_k_bytes / 1e3:.0f} KB); whole-run peak x"
          f"{peak / first_peak:.2f} of the first batch's")
    print(f"summary: batching is x{ratio:.1f} faster than a transaction per message; "
          f"x{headroom:.2f} headroom for {FLEET:,} meters")
    record("ingest_storage", value=rates["batched"], unit="msg/s (storage only)", ratio=ratio,
           baseline="one transaction per message, same run",
           alarm_storm_ratio=rates["alarm storm"] / rates["batched"],
           memory_per_1000_mb=per_k / 1e6, memory_x_payload=per_k / per_k_bytes)


if __name__ == "__main__":
    sys.exit(main())
