"""Topic names of Compere MQTT V1.9, command topic builders, meter codes and oprids.

Every meter publishes to the same fixed topics and is told apart by the ``id`` in the payload;
it listens on command topics ending in the last 8 characters of its 13-character code.
"""

from __future__ import annotations

import uuid

from kpm37.mqtt.errors import PayloadError

RT_DATA = "MQTT_RT_DATA"
ENY_NOW = "MQTT_ENY_NOW"
DAY_DATA = "MQTT_DAY_DATA"
TELEIND = "MQTT_TELEIND"
TELEMETRY_TOPICS: tuple[str, ...] = (RT_DATA, ENY_NOW, DAY_DATA, TELEIND)

TELECTRL = "MQTT_TELECTRL"
RECALL = "MQTT_RECALL"
SETTIME = "MQTT_SETTIME"
SYS_CFG = "MQTT_SYS_CFG"
SYS_READ = "MQTT_SYS_READ"
COMMOD_SET = "MQTT_COMMOD_SET"
COMMOD_READ = "MQTT_COMMOD_READ"
RECONFIG = "MQTT_RECONFIG"
SET = "MQTT_SET"

REPLY_TOPIC: dict[str, str | None] = {
    TELECTRL: "MQTT_TELECTRL_REP",
    RECALL: "MQTT_RECALL_REP",
    SETTIME: "MQTT_METER_TIME_REP",
    SYS_CFG: "MQTT_SYS_SET_REP",
    SYS_READ: "MQTT_SYS_REPLY",
    COMMOD_SET: "MQTT_COMMOD_SET_REP",
    COMMOD_READ: "MQTT_COMMOD_READ_REP",
    RECONFIG: "MQTT_RECONFIG_REPLY",
    SET: None,  # V1.9 documents no reply to the broker-settings command
}
"""Command base name -> the topic its reply arrives on."""

COMMAND_BASES: tuple[str, ...] = tuple(REPLY_TOPIC)
REPLY_TOPICS: tuple[str, ...] = tuple(t for t in REPLY_TOPIC.values() if t)

CODE_LENGTH = 13
OPRID_LENGTH = 32


def validate_code(code: object, field: str = "id") -> str:
    """Return ``code`` if it is a 13-character meter code, else raise PayloadError."""
    if not isinstance(code, str):
        raise PayloadError(field, f"meter code must be a string, got {type(code).__name__}")
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isalnum()):
        shown = repr(code) if len(code) <= 40 else f"{code[:40]!r}... ({len(code)} characters)"
        raise PayloadError(field, f"meter code must be {CODE_LENGTH} letters/digits, got {shown}")
    return code


def topic_suffix(code: str) -> str:
    """The last 8 characters of a meter code, which end its command topics."""
    return validate_code(code, "code")[-8:]


def command_topic(base: str, code: str) -> str:
    """``command_topic("MQTT_TELECTRL", code)`` -> ``"MQTT_TELECTRL_" + code[-8:]``."""
    if base not in REPLY_TOPIC:
        raise PayloadError("topic", f"unknown command topic {base!r}")
    return f"{base}_{topic_suffix(code)}"


def split_command_topic(topic: str) -> tuple[str, str] | None:
    """``"MQTT_SYS_CFG_25950027"`` -> ``("MQTT_SYS_CFG", "25950027")``; None if not a command."""
    base, _, suffix = topic.rpartition("_")
    if base in REPLY_TOPIC and len(suffix) == 8:
        return base, suffix
    return None


def new_oprid() -> str:
    """A fresh operation id of exactly 32 characters (the meter ignores any other length)."""
    return uuid.uuid4().hex


def is_valid_oprid(oprid: object) -> bool:
    """True if ``oprid`` is a string of exactly 32 characters."""
    return isinstance(oprid, str) and len(oprid) == OPRID_LENGTH


def validate_oprid(oprid: object) -> str:
    """Return ``oprid`` if valid, else raise PayloadError naming the field."""
    if not is_valid_oprid(oprid):
        raise PayloadError("oprid", f"must be exactly {OPRID_LENGTH} characters, got {oprid!r}")
    assert isinstance(oprid, str)
    return oprid
