"""Every behaviour row of the conformance table, run against each profile it names: the
simulated meter (its Modbus register space, its V1.9 command side) and the platform's code.

A behaviour row without a check here fails, so a documented fact cannot be left untested.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.mqtt import commands as c
from kpm37.mqtt import topics as t
from kpm37.mqtt.meter_side import MeterSide
from kpm37.profile import load_profile
from kpm37.simulator.clock import SimClock
from kpm37.simulator.meter import SimMeter
from kpm37.tou import table_sizes
from tests.conformance.facts import Fact, per_profile

OPRID = "0123456789abcdef0123456789abcdef"


class Utc:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def meter_at(profile: str, start: datetime) -> tuple[SimMeter, Utc]:
    utc = Utc(start)
    code = "33B1226950002" if profile == "kpm33b" else "3071226900002"
    return SimMeter(load_profile(profile), code=code, address=1,
                    clock=SimClock(utc_source=utc)), utc


def floats(meter: SimMeter, address: int, count: int) -> list[float]:
    words = meter.read_registers(address, 2 * count)
    return list(struct.unpack(f">{count}f", struct.pack(f">{2 * count}H", *words)))


def command(side: MeterSide, base: str, body: dict[str, str]) -> list[dict[str, object]]:
    _topic, replies = side.handle(base, json.dumps(body).encode())
    return replies


# --- Modbus and the meter model -------------------------------------------------------------

def relay_fc05(profile: str) -> None:
    meter, _ = meter_at(profile, datetime(2026, 5, 1, tzinfo=UTC))
    meter.write_coil(0x0001, True)  # 0xFF00
    assert meter.read_coils(0x0001, 1) == [True]
    meter.write_coil(0x0001, False)  # 0x0000
    assert meter.read_coils(0x0001, 1) == [False]


def history_consumption(profile: str) -> None:
    """The month is frozen at 0:00 of the monthly date; the history holds consumption."""
    meter, utc = meter_at(profile, datetime(2026, 2, 27, 12, tzinfo=UTC))
    day = 1  # KPM33B §4.1: 0:00 on the 1st
    if meter.profile.has("billing_day"):  # KPM37: the monthly date S_d
        day = 5
        meter.set_parameter("billing_day", day)
    meter.set_load(voltage=230.0, current=10.0, power_factor=1.0)  # 6.9 kW, all active
    utc.now = datetime(2026, 3, day, 0, 0, tzinfo=UTC) - timedelta(hours=1)
    assert meter.frozen_month(2026, 3) is None
    utc.now += timedelta(hours=1)
    at_midnight = meter.quantities()["total_active_energy"]
    utc.now += timedelta(hours=10)
    frozen = meter.frozen_month(2026, 3)
    assert frozen is not None and frozen["total_active_energy"] == pytest.approx(at_midnight)
    this_month, last_month = floats(meter, 0x009C, 2)
    assert this_month == pytest.approx(6.9 * 10, rel=1e-5)  # 0:00 to 10:00 on the date
    assert last_month > 0  # since the meter began, frozen at 0:00 on the date


def demand_window(profile: str) -> None:
    """Sliding window over dnnd minutes (15 where the profile has no dnnd)."""
    meter, utc = meter_at(profile, datetime(2026, 5, 10, 8, tzinfo=UTC))
    window = 15
    if meter.profile.has("demand_window_minutes"):
        window = 30
        meter.set_parameter("demand_window_minutes", window)
    meter.set_load(voltage=230.0, current=10.0, power_factor=0.9)  # 2.3 kVA a phase
    utc.now += timedelta(hours=1)
    meter.tick()
    meter.set_load(current=40.0)  # 9.2 kVA a phase from now on
    utc.now += timedelta(minutes=window / 3)
    [phase_a] = floats(meter, 0x0200, 1)  # VA (KPM33B §6.3)
    assert phase_a == pytest.approx((2 * 2300.0 + 9200.0) / 3, rel=1e-4)
    utc.now += timedelta(minutes=window)
    assert floats(meter, 0x0200, 1)[0] == pytest.approx(9200.0, rel=1e-4)


def max_demand_reset(profile: str) -> None:
    """The monthly maximum restarts at 0:00 on the monthly demand date."""
    meter, utc = meter_at(profile, datetime(2026, 3, 20, tzinfo=UTC))
    day = 1
    if meter.profile.has("billing_day"):
        day = 5
        meter.set_parameter("billing_day", day)
    meter.set_load(voltage=230.0, current=40.0, power_factor=1.0)  # 27.6 kW
    utc.now += timedelta(hours=2)
    meter.tick()
    meter.set_load(current=10.0)  # 6.9 kW
    utc.now = datetime(2026, 4, day, 0, 0, tzinfo=UTC) - timedelta(minutes=1)
    assert meter.quantities()["max_active_demand"] == pytest.approx(27.6, rel=1e-4)
    utc.now += timedelta(hours=3)
    held = meter.quantities()
    assert held["max_active_demand"] == pytest.approx(6.9, rel=1e-4)
    restart = datetime(2026, 4, day, tzinfo=UTC).timestamp()
    assert held["max_active_demand_at"] == restart


def password_rule(profile: str) -> None:
    prof = load_profile(profile)
    rule = prof.password_rule
    assert rule.register == "password" and "§4.8" in rule.source
    meter, utc = meter_at(profile, datetime(2026, 5, 1, tzinfo=UTC))
    if profile == "kpm33b":
        assert rule.first_in_write
        meter.write_registers(0x0000, [6666, 7])  # V1.9 §4.8: "6666;1;2" from 0000H
        assert meter.parameter("modbus_address") == 7
        with pytest.raises(ModbusExceptionResponse):
            meter.write_registers(0x0001, [8])
        with pytest.raises(ValueOutOfRange, match="password"):
            c.sys_cfg(meter.code, 0x0001, [8], profile=prof)
    else:  # kpm37: assumed, and the profile says why it departs from §4.8
        assert rule.rule == "unlock" and "assumed" in rule.source
        address = prof.register("billing_day").address
        with pytest.raises(ModbusExceptionResponse):
            meter.write_registers(address, [5])
        meter.write_registers(0x0000, [6666])
        meter.write_registers(address, [5])
        utc.now += timedelta(seconds=rule.unlock_seconds + 1)
        with pytest.raises(ModbusExceptionResponse):
            meter.write_registers(address, [6])


def tou_sizes(profile: str) -> None:
    sizes = table_sizes(load_profile(profile))
    if profile == "kpm33b":
        assert (sizes.zones, sizes.periods_per_day, sizes.rates) == (4, 8, 4)
        assert "§1" in sizes.source and "assumed" in sizes.source  # day tables assumed
    else:
        assert sizes.rates == 5 and "assumed" in sizes.source


# --- V1.9 commands ------------------------------------------------------------------------

def recall_request(profile: str) -> None:
    cmd = c.recall("3071226900002", 2026, 4)
    assert cmd.topic == "MQTT_RECALL_26900002"
    assert cmd.payload == {"oprid": cmd.oprid, "date": "202604", "oprtype": "2"}
    assert len(cmd.oprid) == 32


def aged_side(profile: str) -> MeterSide:
    meter, utc = meter_at(profile, datetime(2026, 3, 20, tzinfo=UTC))
    meter.set_load(voltage=230.0, current=10.0, power_factor=0.95)
    utc.now = datetime(2026, 4, 3, tzinfo=UTC)
    meter.tick()
    return MeterSide(meter)


def recall_layout(profile: str) -> None:
    replies = command(aged_side(profile), t.RECALL,
                      {"date": "202604", "oprid": OPRID, "oprtype": "2"})
    assert len(replies) == 4
    assert replies[0]["oprid"] == OPRID and replies[0]["code"] == "01"
    assert all("oprid" not in r and "code" not in r for r in replies[1:])
    assert {r["time"] for r in replies} == {"202604"}
    assert [r["isend"] for r in replies] == ["0", "0", "0", "1"]
    assert {"zygdd", "zyjdd", "zypdd"} <= {k for r in replies for k in r}


def recall_collected(profile: str) -> None:
    """The platform side of §4.6 runs over Mosquitto in test_simulator_mqtt.py; here the
    meter refusing a month it has not frozen ends the recall with code 02 at once."""
    replies = command(aged_side(profile), t.RECALL,
                      {"date": "202001", "oprid": OPRID, "oprtype": "2"})
    assert len(replies) == 1 and replies[0]["code"] == "02" and replies[0]["isend"] == "1"


def oprid_32(profile: str) -> None:
    side = aged_side(profile)
    body = {"Cmd": "0000", "types": "1"}
    assert command(side, t.COMMOD_READ, {**body, "oprid": OPRID[:31]}) == []
    assert command(side, t.COMMOD_READ, {**body, "oprid": OPRID})[0]["code"] == "01"


def sys_cfg_refused(profile: str) -> None:
    side = aged_side(profile)
    replies = command(side, t.SYS_CFG, {"oprid": OPRID, "addr": "0000", "value": "6666;300",
                                        "type": "1"})
    assert replies == [{"id": side.meter.code, "oprid": OPRID, "code": "02"}]  # V1.9 §4.8
    with pytest.raises(ValueOutOfRange, match="modbus_address"):
        c.sys_cfg(side.meter.code, 0x0000, [6666, 300], profile=load_profile(profile))


def upload_interval_list(profile: str) -> None:
    side = aged_side(profile)
    replies = command(side, t.COMMOD_SET, {"oprid": OPRID, "Cmd": "0000", "value": "600",
                                           "types": "1"})
    assert [r["code"] for r in replies] == ["02"]
    with pytest.raises(ValueOutOfRange, match="second_upload_seconds"):
        c.commod_set(side.meter.code, "second", 600, profile=load_profile(profile))
    c.commod_set(side.meter.code, "second", 600)  # V1.9 alone allows it


def day_data_tariffs(profile: str) -> None:
    """Stored per tariff in tests/telemetry/test_ingest_day_data.py; here the mapping."""
    day = load_profile(profile).mqtt["MQTT_DAY_DATA"]
    for code, rate in (("j", 1), ("f", 2), ("p", 3), ("v", 4)):
        assert day[f"zy{code}sz"] == f"import_active_energy_r{rate}"
        assert day[f"fy{code}sz"] == f"export_active_energy_r{rate}"


CHECKS: dict[str, Callable[[str], None]] = {f.__name__: f for f in (
    relay_fc05, history_consumption, demand_window, max_demand_reset, password_rule, tou_sizes,
    recall_request, recall_layout, recall_collected, oprid_32, sys_cfg_refused,
    upload_interval_list, day_data_tariffs)}


@pytest.mark.parametrize(("profile", "fact"), per_profile("behaviour"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_behaviour_row(profile: str, fact: Fact) -> None:
    assert fact.name in CHECKS, f"no check for behaviour {fact.name!r}"
    CHECKS[fact.name](profile)
