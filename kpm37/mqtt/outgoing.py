"""Encoding telemetry the way V1.9 meters publish it (used by the simulator)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from kpm37.mqtt.payload import format_time
from kpm37.mqtt.topics import DAY_DATA, ENY_NOW, RT_DATA

SPLIT_PACKETS = {RT_DATA: 9, ENY_NOW: 11, DAY_DATA: 3}
"""How many packets a KPM37 over WiFi splits each message into (V1.9 §4.1-§4.3)."""


def telemetry_packets(
    code: str, topic: str, local: datetime, tags: Mapping[str, float], packets: int = 1
) -> list[bytes]:
    """One message as ``packets`` JSON payloads, each with id and time, isend "1" on the last."""
    items = list(tags.items())
    packets = max(1, min(packets, len(items) or 1))
    size = -(-len(items) // packets)
    stamp = format_time(local)
    out = []
    for n in range(packets):
        chunk = dict(items[n * size : (n + 1) * size])
        body = {"id": code, **chunk, "time": stamp, "isend": "1" if n == packets - 1 else "0"}
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out


def zeroed(tags: Mapping[str, float]) -> dict[str, float]:
    """The all-zero copy of a message that real meters send among real ones."""
    return dict.fromkeys(tags, 0.0)


def teleind_packet(code: str, local: datetime, di_bits: int, do_bits: int) -> bytes:
    """MQTT_TELEIND payload: ``"value":"DI@DO"`` as 8 hex digits each."""
    body = {"id": code, "value": f"{di_bits:08X}@{do_bits:08X}", "time": format_time(local),
            "isend": "1"}
    return json.dumps(body, separators=(",", ":")).encode()
