"""Compere MQTT V1.9, pure functions and types, no I/O: the one import for callers.

Topics and oprids live in :mod:`kpm37.mqtt.topics`, received payloads in
:mod:`kpm37.mqtt.payload`, split-packet assembly in :mod:`kpm37.mqtt.reassembly`, command
builders in :mod:`kpm37.mqtt.commands` and replies in :mod:`kpm37.mqtt.replies`.
"""

from __future__ import annotations

from kpm37.mqtt.commands import (
    FLOAT_TYPE,
    INT_TYPE,
    INTERVAL_CHOICES,
    LEVEL_CMD,
    Command,
    check_interval,
    check_register_write,
    commod_read,
    commod_set,
    recall,
    reconfig,
    set_broker,
    settime,
    sys_cfg,
    sys_read,
    telectrl,
)
from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import (
    MqttMessage,
    TagMapping,
    format_time,
    parse_message,
    parse_time,
    split_known,
    to_utc,
)
from kpm37.mqtt.reassembly import Reassembler
from kpm37.mqtt.replies import Reply, parse_reply, raise_for_refusal, value_list
from kpm37.mqtt.topics import (
    COMMAND_BASES,
    REPLY_TOPIC,
    REPLY_TOPICS,
    TELEMETRY_TOPICS,
    command_topic,
    is_valid_oprid,
    new_oprid,
    split_command_topic,
    topic_suffix,
    validate_code,
    validate_oprid,
)

__all__ = [
    "COMMAND_BASES",
    "FLOAT_TYPE",
    "INTERVAL_CHOICES",
    "INT_TYPE",
    "LEVEL_CMD",
    "REPLY_TOPIC",
    "REPLY_TOPICS",
    "TELEMETRY_TOPICS",
    "Command",
    "MqttMessage",
    "PayloadError",
    "Reassembler",
    "Reply",
    "TagMapping",
    "check_interval",
    "check_register_write",
    "command_topic",
    "commod_read",
    "commod_set",
    "format_time",
    "is_valid_oprid",
    "new_oprid",
    "parse_message",
    "parse_reply",
    "parse_time",
    "raise_for_refusal",
    "recall",
    "reconfig",
    "set_broker",
    "settime",
    "split_command_topic",
    "split_known",
    "sys_cfg",
    "sys_read",
    "telectrl",
    "to_utc",
    "topic_suffix",
    "validate_code",
    "validate_oprid",
    "value_list",
]
