"""Profiles: the shipped ones load and are consistent; broken files fail with a clear reason."""

from pathlib import Path

import pytest

from kpm37.errors import ProfileError
from kpm37.profile import load_profile, profile_names
from kpm37.quantities import QUANTITIES


@pytest.mark.parametrize("name", profile_names())
def test_shipped_profile_loads_and_is_consistent(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.max_read == 125 and profile.max_write == 123
    for reg in profile.registers:
        if reg.readable:
            assert profile.block_of(reg.table, reg.address, reg.end) is not None, reg.name
        if reg.group in ("measurement", "energy"):
            assert reg.name in QUANTITIES
    for topic, tags in profile.mqtt.items():
        assert all(tag == tag.lower() for tag in tags), topic
    assert load_profile(name) is load_profile(name)  # cached by name


def test_both_profiles_ship() -> None:
    assert {"kpm37", "kpm33b"} <= set(profile_names())


def test_kpm37_layout_follows_the_kpm33b_where_shared() -> None:
    kpm37, kpm33b = load_profile("kpm37"), load_profile("kpm33b")
    for name in ("password", "modbus_address", "baud_format", "clock", "voltage_a",
                 "import_active_energy", "import_active_energy_r1", "do1"):
        assert kpm37.register(name).address == kpm33b.register(name).address, name
    voltage = kpm37.register("voltage_a")
    assert (voltage.address, voltage.type, voltage.words) == (0x0030, "float32", 2)
    assert kpm37.register("do2").table == "coil" and kpm37.register("do2").address == 2
    assert kpm37.register("consumed_total_active_energy_m00").address == 0x009C
    assert kpm37.register("tou_day_b_t8_14_rate").group == "tou"


def test_kpm37_parameters_carry_the_manuals_ranges_and_defaults() -> None:
    profile = load_profile("kpm37")
    ct = profile.register("ct_ratio")
    assert (ct.minimum, ct.maximum, ct.default, ct.scale) == (0.1, 6000.0, 1.0, 0.1)
    assert profile.register("billing_day").maximum == 28
    assert profile.register("rated_current").choices == {1: "1 A", 5: "5 A", 100: "100 A",
                                                          400: "400 A", 800: "800 A"}
    assert profile.register("over_voltage_threshold").default == 120
    assert profile.register("lora_channel").minimum == 4300
    assert all(r.access == "rw" for r in profile.parameters())
    assert profile.register("wiring_mode").source == "assumed"
    assert profile.mqtt["MQTT_ENY_NOW"]["zyfsz"] == "import_active_energy_r2"
    assert profile.mqtt["MQTT_RECALL_REP"]["zyjdd"] == "import_active_energy_r1"


def test_read_blocks_unpack_as_tuples() -> None:
    table, start, end = load_profile("kpm37").read_blocks[0]
    assert (table, start, end) == ("holding", 0x0000, 0x0027)
    assert ("coil", 1, 3) in load_profile("kpm37").read_blocks


def test_unknown_register_name_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match="no register named 'nope'"):
        load_profile("kpm37").register("nope")


def test_unknown_profile_name() -> None:
    with pytest.raises(ProfileError, match="no profile named 'sdm999'"):
        load_profile("sdm999")


HEADER = "name: t\ndefaults: {group: x}\nread_blocks:\n  - {start: 0, end: 100}\nregisters:\n"


@pytest.mark.parametrize(("registers", "message"), [
    ("  - {name: a, address: 0, type: float32}\n  - {name: b, address: 1}\n",
     "register 'b': overlaps 'a' at address 0x0001"),
    ("  - {name: a, address: 0, type: u64}\n", "register 'a': unknown type 'u64'"),
    ("  - {name: a, address: 70000}\n", "register 'a': address 70000 is outside 0..65535"),
    ("  - {name: a, address: 0, type: float32, words: 3}\n",
     "register 'a': words 3 does not match type 'float32' (needs 2)"),
    ("  - {name: a, address: 0, group: parameter, minimum: 5, maximum: 1}\n",
     "register 'a': minimum 5.0 is greater than maximum 1.0"),
    ("  - {name: voltage_x, address: 0, group: measurement}\n",
     "register 'voltage_x': unknown quantity name"),
    ("  - {name: a, address: 0, group: x}\n  - {name: a, address: 1, group: x}\n",
     "register 'a': duplicate name"),
    ("  - {name: a, address: 200, group: x}\n",
     "register 'a': readable but not inside any read block"),
    ("  - {name: a, address: 0, group: x, access: rx}\n", "register 'a': unknown access 'rx'"),
    ("  - {name: a, address: 0, type: ascii}\n",
     "register 'a': type 'ascii' needs an explicit words count"),
    ("  - {name: a, address: 0, group: x, colour: red}\n", "register 'a': unknown keys"),
    # a meter serving W read as kW would show a thousand times its power
    ("  - {name: active_power_a, address: 0, type: float32, unit: W}\n",
     "register 'active_power_a': unit W needs scale 0.001 into kW, got 1"),
    ("  - {name: active_power_a, address: 0, type: float32, unit: kWh, scale: 0.001}\n",
     "register 'active_power_a': unit 'kWh' does not convert to 'kW'"),
])
def test_broken_profiles_are_refused_with_the_register_and_reason(
        tmp_path: Path, registers: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + registers)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert message in str(info.value)
    assert "broken.yaml" in str(info.value)


def test_broken_yaml_and_bad_mqtt_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(path)
    path.write_text(HEADER + "  - {name: a, address: 0, group: x}\n"
                    "mqtt:\n  MQTT_RT_DATA: {ua: voltage_q}\n")
    with pytest.raises(ProfileError, match="tag 'ua' maps to unknown quantity 'voltage_q'"):
        load_profile(path)


def test_repeat_construct_expands_tables(tmp_path: Path) -> None:
    path = tmp_path / "rep.yaml"
    path.write_text(HEADER + "  - repeat: {name: 'z{0}_{1:02d}', start: 10, dims: [[2, 6], [3, 2]],"
                    " group: x, fields: [{suffix: m, offset: 0}, {suffix: d, offset: 1}]}\n")
    profile = load_profile(path)
    assert profile.register("z1_01_m").address == 10
    assert profile.register("z1_03_d").address == 15
    assert profile.register("z2_01_m").address == 16
    assert len(profile.registers) == 12


def test_parameters_leave_out_relay_coils_and_profile_names_are_plain() -> None:
    profile = load_profile("kpm37")
    names = {r.name for r in profile.parameters()}
    assert {"do1_control_mode", "billing_day", "tou_zone_a_01_month"} <= names
    assert "do1" not in names and "password" not in names
    with pytest.raises(ProfileError, match="may use only"):
        load_profile("../kpm37")


@pytest.mark.parametrize(("section", "message"), [
    ("password: {register: a, rule: unlock, unlock_seconds: 60}\n", "say which source"),
    ("password: {register: a, rule: first_in_write, unlock_seconds: 60, source: s}\n",
     "unlock_seconds > 0 goes with rule unlock"),
    ("password: {register: nope, rule: first_in_write, source: s}\n",
     "password register 'nope' is not a register"),
    ("tou_sizes: {zones: 4, day_tables: 1, periods_per_day: 8, rates: 4}\n", "tou_sizes"),
    ("tou_sizes: {zones: 4, day_tables: 1, periods_per_day: 8, rates: 6, source: s}\n",
     "rates at most 5"),
])
def test_password_rule_and_tou_sizes_need_their_source(tmp_path: Path, section: str,
                                                       message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(section + HEADER + "  - {name: a, address: 0, group: x}\n")
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_each_profile_states_its_password_rule_with_its_source() -> None:
    kpm33b, kpm37 = (load_profile(n).password_rule for n in ("kpm33b", "kpm37"))
    assert kpm33b.first_in_write and "V1.9 §4.8" in kpm33b.source
    assert (kpm37.rule, kpm37.unlock_seconds) == ("unlock", 60)
    assert "assumed" in kpm37.source and "front panel" in kpm37.source
