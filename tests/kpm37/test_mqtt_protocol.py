"""Compere MQTT V1.9 protocol: topics, oprids, payload parsing, command builders, replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kpm37.errors import ValueOutOfRange, WriteRefused
from kpm37.mqtt import protocol as p

CODE = "30712A0000027"
MAPPING = {
    "MQTT_RT_DATA": {"ua": "voltage_a", "zyggl": "active_power_total"},
    "MQTT_ENY_NOW": {"zygsz": "import_active_energy"},
}


def packet(**fields: object) -> bytes:
    return json.dumps({"id": CODE, "time": "20260117211500", "isend": "1", **fields}).encode()


def test_command_topic_ends_in_last_eight_characters_of_code() -> None:
    assert p.command_topic("MQTT_TELECTRL", CODE) == "MQTT_TELECTRL_A0000027"
    assert p.split_command_topic("MQTT_SYS_CFG_A0000027") == ("MQTT_SYS_CFG", "A0000027")
    assert p.split_command_topic("MQTT_RT_DATA") is None


@pytest.mark.parametrize("code", ["123", "30712A000002", "30712A0000027X", "30712A00000-7", 12])
def test_bad_meter_code_is_refused_naming_the_field(code: object) -> None:
    with pytest.raises(p.PayloadError) as info:
        p.command_topic("MQTT_TELECTRL", code)  # type: ignore[arg-type]
    assert info.value.field == "code"


def test_oprid_is_exactly_32_characters_and_fresh() -> None:
    first, second = p.new_oprid(), p.new_oprid()
    assert len(first) == len(second) == 32 and first != second
    assert p.validate_oprid(first) == first
    for bad in ("x" * 31, "x" * 33, None):
        assert not p.is_valid_oprid(bad)
        with pytest.raises(p.PayloadError, match="oprid"):
            p.validate_oprid(bad)


def test_parse_maps_lower_cased_tags_and_keeps_unknown_ones() -> None:
    msg = p.parse_message(packet(UA="229.5", zyggl=6.69, iadm=9.68), "MQTT_RT_DATA", MAPPING)
    assert msg.meter_code == CODE
    assert msg.time == datetime(2026, 1, 17, 21, 15, 0)
    assert msg.time.tzinfo is None
    assert msg.quantities == {"voltage_a": 229.5, "active_power_total": 6.69}
    assert msg.unknown == {"iadm": 9.68}
    assert msg.is_last_packet and not msg.is_all_zero
    assert msg.raw == (packet(UA="229.5", zyggl=6.69, iadm=9.68),)


def test_all_zero_message_is_flagged() -> None:
    msg = p.parse_message(packet(zygsz="0.000", zszsz=0), "MQTT_ENY_NOW", MAPPING)
    assert msg.is_all_zero


def test_teleind_value_splits_into_di_and_do_bits() -> None:
    msg = p.parse_message(packet(value="00000003@00000001"), "MQTT_TELEIND")
    assert msg.quantities == {"di_state": 3.0, "do_state": 1.0}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "payload"),
        (b"\xff\xfe", "payload"),
        (b"[1, 2]", "payload"),
        (json.dumps({"time": "20260117211500"}).encode(), "id"),
        (json.dumps({"id": CODE}).encode(), "time"),
        (json.dumps({"id": CODE, "time": "2026-01-17"}).encode(), "time"),
        (json.dumps({"id": CODE, "time": "20261317211500"}).encode(), "time"),
        (packet(ua="high"), "ua"),
        (packet(ua=True), "ua"),
        (packet(ua=None), "ua"),
        (packet(ua="nan"), "ua"),
        (json.dumps({"id": CODE, "time": "20260117211500", "value": "3"}).encode(), "value"),
    ],
)
def test_malformed_payload_raises_payload_error_naming_field(payload: bytes, field: str) -> None:
    with pytest.raises(p.PayloadError) as info:
        p.parse_message(payload, "MQTT_TELEIND" if field == "value" else "MQTT_RT_DATA")
    assert info.value.field == field
    assert field in str(info.value)


def test_to_utc_converts_meter_local_time_explicitly() -> None:
    local = datetime(2026, 7, 1, 12, 0, 0)
    assert p.to_utc(local, "Europe/Vienna") == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert p.to_utc(local, "UTC") == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(p.PayloadError, match="timezone"):
        p.to_utc(local, "Mars/Olympus")
    with pytest.raises(p.PayloadError, match="naive"):
        p.to_utc(local.replace(tzinfo=UTC), "UTC")


def test_telectrl_recall_settime_payloads() -> None:
    cmd = p.telectrl(CODE, 2, True)
    assert cmd.topic == "MQTT_TELECTRL_A0000027" and cmd.reply_topic == "MQTT_TELECTRL_REP"
    assert json.loads(cmd.encode()) == {"oprid": cmd.oprid, "do2": "1"}
    assert p.telectrl(CODE, 1, False).payload["do1"] == "0"
    recall = p.recall(CODE, 2026, 3)
    assert recall.payload == {"oprid": recall.oprid, "date": "202603", "oprtype": "2"}
    settime = p.settime(CODE, datetime(2026, 1, 2, 3, 4, 5))
    assert settime.payload["time"] == "20260102030405"
    assert settime.reply_topic == "MQTT_METER_TIME_REP"


def test_sys_cfg_and_sys_read_payloads() -> None:
    cfg = p.sys_cfg(CODE, 0x1A, [6666, 1, 2])
    assert cfg.payload == {"oprid": cfg.oprid, "addr": "001A", "value": "6666;1;2", "type": "1"}
    floats = p.sys_cfg(CODE, 0x30, [1.5, -2], p.FLOAT_TYPE)
    assert floats.payload["value"] == "1.5;-2.0" and floats.payload["type"] == "2"
    read = p.sys_read(CODE, 0xFFFF, 1)
    assert read.payload == {"oprid": read.oprid, "addr": "FFFF", "lenth": "1", "type": "1"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: p.telectrl(CODE, 3, True), "do"),
        (lambda: p.recall(CODE, 2026, 13), "month"),
        (lambda: p.sys_cfg(CODE, 0, list(range(101))), "count"),
        (lambda: p.sys_cfg(CODE, 0, []), "count"),
        (lambda: p.sys_cfg(CODE, 0, [70000]), "value"),
        (lambda: p.sys_cfg(CODE, 0, [1.5]), "value"),
        (lambda: p.sys_cfg(CODE, 0, [1], "3"), "type"),
        (lambda: p.sys_cfg(CODE, 0, [float("inf")], "2"), "value"),
        (lambda: p.sys_read(CODE, 0xFFFF, 1, "2"), "addr"),
        (lambda: p.sys_read(CODE, -1, 1), "addr"),
        (lambda: p.commod_set(CODE, "second", 45), "value"),
        (lambda: p.commod_set(CODE, "minute", 2), "value"),
        (lambda: p.commod_set(CODE, "hour", 1), "level"),
        (lambda: p.settime(CODE, datetime(2026, 1, 1, tzinfo=UTC)), "time"),
        (lambda: p.set_broker(CODE, ["1.2.3.4", "1883", "u"]), "info"),
    ],
)
def test_builders_refuse_bad_arguments_before_sending(build: object, field: str) -> None:
    with pytest.raises(ValueOutOfRange) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field


def test_commod_payloads_use_documented_choices() -> None:
    for seconds in (30, 60, 300, 600, 900, 1200, 1800, 3600):
        assert p.commod_set(CODE, "second", seconds).payload["Cmd"] == "0000"
    for minutes in (1, 5, 10, 15, 20, 30, 60, 1440):
        cmd = p.commod_set(CODE, "minute", minutes)
        assert cmd.payload == {"oprid": cmd.oprid, "Cmd": "0001", "value": str(minutes),
                               "types": "1"}
    assert p.commod_read(CODE, "minute").payload["Cmd"] == "0001"
    assert p.reconfig(CODE).reply_topic == "MQTT_RECONFIG_REPLY"
    broker = p.set_broker(CODE, ["10.0.0.1", "1883", "meter", "secret"])
    assert broker.payload["info"] == "10.0.0.1;1883;meter;secret" and broker.reply_topic is None


def test_reply_parsing_success_failure_and_values() -> None:
    oprid = p.new_oprid()
    ok = p.parse_reply(json.dumps({"oprid": oprid, "code": "01", "value": "6666;1;2"}), "R")
    assert ok.ok and p.raise_for_refusal(ok) is ok
    assert p.value_list(ok) == [6666.0, 1.0, 2.0]
    refused = p.parse_reply(json.dumps({"oprid": oprid, "code": "02", "msg": "locked"}), "R")
    with pytest.raises(WriteRefused, match="locked"):
        p.raise_for_refusal(refused)
    with pytest.raises(p.PayloadError, match="oprid"):
        p.parse_reply(b'{"code": "01"}', "R")
    with pytest.raises(p.PayloadError, match="value"):
        p.value_list(p.parse_reply(json.dumps({"oprid": oprid, "value": "1;x"}), "R"))
