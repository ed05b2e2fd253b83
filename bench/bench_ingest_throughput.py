"""ingest_throughput: MQTT messages from broker to committed row, against a bare subscriber.

A throwaway database (webdb.py) holds 20,000 MQTT meters, one in a hundred at CT ratio 1 so its
RT_DATA raises two alarms. A private Mosquitto on loopback (mqttfleet.py) gets a fleet's
traffic: per meter two MQTT_RT_DATA (30 s apart) and one MQTT_ENY_NOW, V1.9 payloads built from
the captured messages, QoS 1, published as fast as one paho publisher can. Two subscribers take
the same stream in the same run:

  ingest  N real ``manage.py ingest_mqtt`` processes on one shared subscription (ack after
          commit); done when the readings table holds every message;
  bare    one paho subscriber (QoS 1, auto-ack) that only counts: the ceiling of the broker
          and paho on this machine at this moment.

Each rate is messages / (time its last message was handled - time publishing began), so
ratio = ingest / bare. Checked afterwards: every message stored once (rows = messages under the
unique (meter, source, time)), none lost, no dead letter, each hot meter's two alarms open with
the count of its RT_DATA, every meter's latest state written. ``--quick`` (BENCH_QUICK=1) runs
300 meters.
"""

from __future__ import annotations

import sys

from mqttfleet import (
    ALARMS_PER_HOT_METER,
    Consumers,
    IngestProcesses,
    make_meters,
    private_broker,
    wait_stored,
)
from record import quick, record
from webdb import throwaway_database

TARGET_RATE, TARGET_RATIO = 5_000, 0.4
HOT_EVERY = 100
SLOTS = 2  # two 30-second slots: RT_DATA in both, ENY_NOW in the newest -> 3 per meter
INGEST_PROCESSES = 2  # the machine has two cores


def verify(meters: int, expected: int) -> dict[str, int]:
    """What landed in the database, counted independently of the ingest's own report."""
    from django.db.models import Sum

    from meters.alarms.models import Alarm
    from meters.telemetry.models import DeadLetter, LatestState, Reading

    hot = -(-meters // HOT_EVERY)
    alarms = Alarm.objects.filter(cleared_at__isnull=True)
    return {"stored": Reading.objects.count(), "expected": expected,
            "dead_letters": DeadLetter.objects.count(),
            "latest_states": LatestState.objects.count(),
            "open_alarms": alarms.count(), "expected_alarms": hot * ALARMS_PER_HOT_METER,
            "alarm_repeats": alarms.aggregate(n=Sum("count"))["n"] or 0,
            "expected_repeats": hot * ALARMS_PER_HOT_METER * SLOTS}


def main() -> int:
    meters = 300 if quick() else 20_000
    with throwaway_database("ingestmqtt") as where:
        print(f"database: {where}")
        codes = make_meters(meters, hot_every=HOT_EVERY)
        with private_broker() as port:
            ingest = IngestProcesses(port, INGEST_PROCESSES)
            try:
                run = Consumers(port, codes, SLOTS, bare=True)
                print(f"{meters:,} meters, {run.count:,} messages (RT_DATA:ENY_NOW 2:1, QoS 1) "
                      f"to Mosquitto :{port}; {INGEST_PROCESSES} ingest_mqtt processes and a "
                      f"bare paho subscriber on the same stream")
                run.start()
                started, published = run.published()
                bare_n, _, bare_last = run.bare_received()
                rows, stored_at = wait_stored(run.count)
                peak_kb = ingest.peak_rss_kb()
            finally:
                tails = ingest.stop()
        checks = verify(meters, run.count)
    for n, tail in enumerate(tails):
        print(f"  ingest {n}: {tail}")
    print(f"  checks: {checks}")
    ingest_rate = rows / (stored_at - started)
    bare_rate = bare_n / (bare_last - started)
    publish_rate = run.count / (published - started)
    ratio = ingest_rate / bare_rate
    whole = (checks["stored"] == checks["expected"] and not checks["dead_letters"]
             and checks["open_alarms"] == checks["expected_alarms"]
             and checks["alarm_repeats"] == checks["expected_repeats"]
             and checks["latest_states"] == meters and bare_n == run.count)
    print(f"  published {publish_rate:,.0f} msg/s; bare received {bare_n:,} at "
          f"{bare_rate:,.0f} msg/s; ingest committed {rows:,} at {ingest_rate:,.0f} msg/s")
    record("ingest_throughput", value=ingest_rate, unit="msg/s committed", ratio=ratio,
           baseline="bare paho subscriber on the same stream",
           target=f">= {TARGET_RATE:,} msg/s and ratio >= {TARGET_RATIO}",
           met=whole and ingest_rate >= TARGET_RATE and ratio >= TARGET_RATIO,
           meters=meters, messages=run.count, ingest_processes=INGEST_PROCESSES,
           publish_rate=publish_rate, bare_rate=bare_rate, all_stored_once=whole,
           lost=checks["expected"] - checks["stored"], dead_letters=checks["dead_letters"],
           open_alarms=checks["open_alarms"], ingest_peak_rss_mb=peak_kb / 1024,
           seconds=stored_at - started)
    return 0 if whole else 1


if __name__ == "__main__":
    sys.exit(main())
