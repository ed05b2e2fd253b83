"""The simulated meter: energy per TOU rate by its own clock, monthly freeze, alarms, relays, and
the refusals a real meter makes (range, password, illegal address), all or nothing."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from kpm37.codec import decode_block, encode
from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.planner import plan_reads, plan_writes
from kpm37.profile import load_profile
from kpm37.quantities import Rate, rate_counter
from kpm37.simulator.clock import SimClock
from kpm37.simulator.meter import ALARMS, SimMeter

START = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)


class FakeTime:
    """A settable UTC source, so the meter's clock is deterministic."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_meter(profile: str = "kpm37", seed: int = 1) -> tuple[SimMeter, FakeTime]:
    time = FakeTime()
    meter = SimMeter(load_profile(profile), code="3071225900001", address=5,
                     clock=SimClock(utc_source=time), seed=seed)
    return meter, time


def refused(code: int, action: Callable[[], object]) -> None:
    with pytest.raises(ModbusExceptionResponse) as info:
        action()
    assert info.value.code == code


def unlock(meter: SimMeter) -> None:
    meter.write_registers(0x0000, [6666])


def test_energy_lands_in_the_rate_of_the_meters_own_clock() -> None:
    meter, time = make_meter()
    meter.set_load(voltage=230.0, current=10.0, power_factor=1.0)  # 6.9 kW
    before = meter.quantities()
    time.advance(hours=1)  # 06:30 -> 07:30 local: valley until 07:00, then flat
    after = meter.quantities()
    gained = {n: after[n] - before[n] for n in after if "active_energy" in n}
    assert gained["import_active_energy"] == pytest.approx(6.9)
    assert gained[rate_counter("import", Rate.VALLEY)] == pytest.approx(3.45)
    assert gained[rate_counter("import", Rate.FLAT)] == pytest.approx(3.45)
    assert gained[rate_counter("import", Rate.PEAK)] == 0


def test_a_wrong_meter_clock_bills_the_wrong_rate() -> None:
    meter, time = make_meter()
    meter.clock.set_local(datetime(2026, 3, 10, 10, 0))  # four hours fast: peak
    before = meter.quantities()[rate_counter("import", Rate.PEAK)]
    time.advance(minutes=30)
    assert meter.quantities()[rate_counter("import", Rate.PEAK)] > before


def test_tou_program_written_over_modbus_drives_the_rates() -> None:
    meter, time = make_meter()
    profile = meter.profile
    unlock(meter)
    frames = plan_writes(profile, {"password": 6666, "tou_day_a_t1_01_rate": 5,
                                   "tou_day_a_t1_02_rate": 5})
    for frame in frames:
        meter.write_registers(frame.start, list(frame.words))
    before = meter.quantities()[rate_counter("import", Rate.DEEP_VALLEY)]
    time.advance(hours=1)
    assert meter.quantities()[rate_counter("import", Rate.DEEP_VALLEY)] > before


def test_billing_day_freeze_keeps_twelve_months() -> None:
    meter, time = make_meter()
    meter.set_parameter("billing_day", 5)
    for _ in range(14 * 6):  # fourteen months of freezes (April 2026 .. May 2027) in steps
        time.advance(days=5)
        meter.tick()
    time.now = datetime(2027, 5, 20, tzinfo=UTC)
    now = meter.clock.now_local()
    months = [(now.year, now.month)]
    for _ in range(13):
        y, m = months[-1]
        months.append((y, m - 1) if m > 1 else (y - 1, 12))
    kept = [ym for ym in months if meter.frozen_month(*ym) is not None]
    assert len(kept) == 12 and kept == months[:12]
    newest, older = meter.frozen_month(*months[0]), meter.frozen_month(*months[1])
    assert newest and older
    assert newest["import_active_energy"] > older["import_active_energy"]
    assert newest["import_active_energy"] == pytest.approx(
        sum(newest[rate_counter("import", r)] for r in Rate))
    words = meter.read_registers(0x009C, 26)
    history = decode_block(meter.profile, "holding", 0x009C, words)
    # KPM33B manual V3.4 §4.1: the history holds each month's consumption, not readings
    assert history["consumed_total_active_energy_m01"] == pytest.approx(
        newest["total_active_energy"] - older["total_active_energy"], rel=1e-5)
    assert history["consumed_total_active_energy_m00"] == pytest.approx(
        meter.quantities()["total_active_energy"] - newest["total_active_energy"], rel=1e-5)
    oldest, before = meter.frozen_month(*months[11]), meter.frozen_month(*months[10])
    assert oldest and before and history["consumed_total_active_energy_m12"] > 0
    assert history["consumed_total_active_energy_m11"] == pytest.approx(
        before["total_active_energy"] - oldest["total_active_energy"], rel=1e-5)


def test_freeze_happens_exactly_at_the_billing_moment() -> None:
    meter, time = make_meter()
    meter.set_load(current=3.0)
    meter.clock.set_local(datetime(2026, 3, 31, 23, 0))
    meter.tick()
    time.advance(hours=2)
    frozen = meter.frozen_month(2026, 4)
    current = meter.quantities()["import_active_energy"]
    assert frozen is not None
    per_hour = meter.quantities()["active_power_total"]
    assert current - frozen["import_active_energy"] == pytest.approx(per_hour, rel=1e-6)


def test_over_voltage_raises_the_flag_and_alarm_mode_relay_follows() -> None:
    meter, _ = make_meter()
    assert meter.alarms() == set()
    meter.set_parameter("do2_control_mode", 1)
    meter.set_load(voltage=290.0)  # > 120 % of 220 V
    assert "over_voltage" in meter.alarms()
    flags = meter.read_registers(0x1042, 1)[0]
    assert flags & (1 << ALARMS.index("over_voltage"))
    assert meter.read_coils(1, 2) == [False, True]
    refused(4, lambda: meter.write_coil(2, False))  # alarm mode ignores commands
    meter.set_load(voltage=100.0)
    assert {"under_voltage"} <= meter.alarms() and "over_voltage" not in meter.alarms()
    meter.set_load(voltage=10.0)
    assert "voltage_loss" in meter.alarms() and "under_voltage" not in meter.alarms()


def test_remote_relay_pulse_returns_to_open_and_level_holds() -> None:
    meter, time = make_meter()
    meter.write_coil(1, True)  # default: remote, pulse mode, 200 ms
    assert meter.read_coils(1, 1) == [True]
    time.advance(seconds=1)
    assert meter.read_coils(1, 1) == [False]
    meter.set_parameter("do1_output_mode", 0)
    meter.write_coil(1, True)
    time.advance(hours=1)
    assert meter.read_coils(1, 2) == [True, False]
    assert meter.parameter("do_state") == 1


def test_password_rule() -> None:
    meter, time = make_meter()
    billing_day = meter.profile.register("billing_day").address
    refused(4, lambda: meter.write_registers(billing_day, [5]))
    refused(4, lambda: meter.write_registers(0x0000, [1234]))
    unlock(meter)
    meter.write_registers(billing_day, [5])
    assert meter.parameter("billing_day") == 5
    time.advance(seconds=61)
    refused(4, lambda: meter.write_registers(billing_day, [6]))
    assert meter.parameter("billing_day") == 5


def test_password_first_profile_needs_it_in_the_same_frame() -> None:
    meter, _ = make_meter("kpm33b")
    refused(4, lambda: meter.write_registers(0x0001, [9]))
    meter.write_registers(0x0000, [6666])  # no session on a password_first meter
    refused(4, lambda: meter.write_registers(0x0001, [9]))
    meter.write_registers(0x0000, [6666, 9])
    assert meter.parameter("modbus_address") == 9


def test_range_refusal_and_all_or_nothing() -> None:
    meter, _ = make_meter()
    unlock(meter)
    pt = meter.profile.register("pt_ratio").address
    refused(3, lambda: meter.write_registers(pt, [20, 0]))  # ct_ratio 0.0 is below 0.1
    assert meter.parameter("pt_ratio") == 1.0
    refused(3, lambda: meter.write_registers(meter.profile.register("billing_day").address, [31]))
    refused(2, lambda: meter.write_registers(0x0030, [0, 0]))  # read-only
    refused(2, lambda: meter.write_registers(0x0024, [0]))  # middle of the clock register
    refused(2, lambda: meter.write_registers(0x1018, [0, 0]))  # runs past the last parameter
    meter.write_registers(pt, [20, 400])
    assert (meter.parameter("pt_ratio"), meter.parameter("ct_ratio")) == (2.0, 40.0)


def test_reads_outside_blocks_are_illegal_addresses() -> None:
    meter, _ = make_meter()
    refused(2, lambda: meter.read_registers(0x0027, 2))
    assert meter.read_registers(0x0026, 1) == [0]  # load power threshold (KPM33B §6.2)
    refused(2, lambda: meter.read_registers(0x0060, 10))  # crosses a block boundary
    refused(3, lambda: meter.read_registers(0x0030, 126))
    refused(2, lambda: meter.read_coils(0, 1))
    refused(2, lambda: meter.read_registers(0x0064, 1))  # between blocks
    assert meter.read_registers(0x0003, 2) == [0, 0]  # unused address inside a block reads 0


def test_planned_writes_read_back_through_the_planner() -> None:
    meter, _ = make_meter()
    profile = meter.profile
    wanted = {"password": 6666, "ct_ratio": 150.0, "billing_day": 12, "do1_pulse_ms": 500,
              "second_upload_seconds": 300, "tou_zone_switch_at": datetime(2026, 6, 1)}
    for frame in plan_writes(profile, wanted):
        meter.write_registers(frame.start, list(frame.words))
    names = [n for n in wanted if n != "password"]
    got = {}
    for frame in plan_reads(profile, names):
        got |= decode_block(profile, frame.table, frame.start,
                            meter.read_registers(frame.start, frame.count))
    assert {n: got[n] for n in names} == {n: wanted[n] for n in names}


def test_clock_write_sets_the_meter_clock() -> None:
    meter, time = make_meter()
    unlock(meter)
    clock = meter.profile.register("clock")
    meter.write_registers(clock.address, encode(clock, datetime(2027, 1, 2, 3, 4, 5)))
    time.advance(seconds=10)
    assert meter.parameter("clock") == datetime(2027, 1, 2, 3, 4, 15)


def test_reset_energy_and_seeded_fleet_variety() -> None:
    meter, _ = make_meter()
    assert meter.quantities()["import_active_energy"] > 0
    meter.reset_energy()
    assert meter.quantities()["import_active_energy"] == 0
    loads = {round(make_meter(seed=s)[0].quantities()["active_power_total"], 3) for s in range(5)}
    assert len(loads) == 5


def test_set_parameter_checks_ranges() -> None:
    meter, _ = make_meter()
    with pytest.raises(ValueOutOfRange, match="billing_day"):
        meter.set_parameter("billing_day", 30)
    with pytest.raises(KeyError):
        meter.parameter("nope")


def test_clock_drift_speed_and_time_zone() -> None:
    time = FakeTime()
    clock = SimClock(utc_source=time, timezone="Asia/Shanghai", drift_seconds_per_hour=3.6)
    assert clock.now_local() == datetime(2026, 3, 10, 14, 30)  # UTC+8, naive
    time.advance(hours=10)
    assert clock.now_local() == datetime(2026, 3, 11, 0, 30, 36)  # gained 0.1 %
    clock.drift_seconds_per_hour = 0
    clock.speed = 60  # from now on an hour passes every minute, not retroactively
    assert clock.now_local() == datetime(2026, 3, 11, 0, 30, 36)
    time.advance(minutes=2)
    assert clock.now_local() == datetime(2026, 3, 11, 2, 30, 36)


def test_negative_power_factor_exports() -> None:
    meter, time = make_meter()
    meter.set_load(voltage=230.0, current=10.0, power_factor=-1.0)
    before = meter.quantities()
    time.advance(hours=1)
    after = meter.quantities()
    assert after["export_active_energy"] - before["export_active_energy"] == pytest.approx(6.9)
    assert after["import_active_energy"] == before["import_active_energy"]
    with pytest.raises(ValueOutOfRange, match="power_factor"):
        meter.set_load(power_factor=1.5)


def test_unpinned_load_follows_the_time_of_day() -> None:
    meter, time = make_meter()
    night = meter.quantities()["active_power_total"]  # 06:30 local
    time.advance(hours=8)
    afternoon = meter.quantities()["active_power_total"]
    assert afternoon > night * 1.3


def test_clock_outside_the_bcd_range_reads_as_unset() -> None:
    meter, _ = make_meter()
    meter.clock.set_local(datetime(1999, 12, 31, 23, 0))  # an unset clock years in the past
    assert meter.read_registers(0x0023, 3) == [0, 0, 0]


@pytest.mark.parametrize("profile_name", ["kpm37", "kpm33b"])
def test_all_zero_clock_write_is_refused_and_the_clock_keeps_running(profile_name: str) -> None:
    profile = load_profile(profile_name)
    meter = SimMeter(profile, code="3071025100001", address=1)
    clock = profile.register("clock")
    before = meter.parameter("clock")
    with pytest.raises(ModbusExceptionResponse) as refusal:
        meter.write_registers(clock.address, [0] * clock.words)
    assert refusal.value.code == 3
    assert meter.parameter("clock") is not None
    assert abs((meter.parameter("clock") - before).total_seconds()) < 5
