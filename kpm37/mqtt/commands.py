"""Command payloads the platform sends to V1.9 meters, and parsing of the meters' replies.

Builders check every argument before anything is sent and raise
:class:`kpm37.errors.ValueOutOfRange` naming the field. Each returns a :class:`Command` that
knows its topic, its fresh 32-character oprid and the topic its reply arrives on.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kpm37 import codec
from kpm37.errors import ValueOutOfRange
from kpm37.mqtt import topics as t
from kpm37.mqtt.payload import format_time
from kpm37.profile import Profile

INT_TYPE = "1"  # SYS_CFG / SYS_READ: 16-bit register words
FLOAT_TYPE = "2"  # SYS_CFG / SYS_READ: float32, two registers each
MAX_VALUES = 100

LEVEL_CMD = {"second": "0000", "minute": "0001"}
"""Upload-interval level -> the ``Cmd`` code of COMMOD_SET / COMMOD_READ."""
INTERVAL_CHOICES: dict[str, tuple[int, ...]] = {
    "second": (30, 60, 300, 600, 900, 1200, 1800, 3600),  # seconds
    "minute": (1, 5, 10, 15, 20, 30, 60, 1440),  # minutes
}
"""What V1.9 §3.11/§4.11 allows; a profile may allow less (the KPM37 manual has no 600 s)."""
INTERVAL_PARAMETER = {"second": "second_upload_seconds", "minute": "minute_upload_minutes"}
"""Upload-interval level -> the profile parameter that holds it, where the profile has one."""


@dataclass(frozen=True)
class Command:
    """One command message, ready to publish."""

    base: str
    topic: str
    oprid: str
    payload: dict[str, str]

    @property
    def reply_topic(self) -> str | None:
        """Where the meter answers, or None for commands V1.9 gives no reply."""
        return t.REPLY_TOPIC[self.base]

    def encode(self) -> bytes:
        """The JSON bytes to publish."""
        return json.dumps(self.payload, separators=(",", ":")).encode()


def _command(base: str, code: str, fields: dict[str, str], oprid: str | None) -> Command:
    oprid = t.new_oprid() if oprid is None else oprid
    return Command(base, t.command_topic(base, code), oprid, {"oprid": oprid, **fields})


def telectrl(code: str, do: int, on: bool, *, oprid: str | None = None) -> Command:
    """Switch relay output ``do`` (1 or 2) on or off."""
    if do not in (1, 2):
        raise ValueOutOfRange("do", f"relay output must be 1 or 2, got {do!r}")
    return _command(t.TELECTRL, code, {f"do{do}": "1" if on else "0"}, oprid)


def recall(code: str, year: int, month: int, *, oprid: str | None = None) -> Command:
    """Ask for the frozen billing data of ``year``-``month``."""
    if not 1 <= month <= 12:
        raise ValueOutOfRange("month", f"must be 1-12, got {month!r}")
    if not 2000 <= year <= 2099:
        raise ValueOutOfRange("year", f"must be 2000-2099, got {year!r}")
    return _command(t.RECALL, code, {"date": f"{year:04d}{month:02d}", "oprtype": "2"}, oprid)


def settime(code: str, local: datetime, *, oprid: str | None = None) -> Command:
    """Set the meter's clock to the naive meter-local ``local``."""
    if local.tzinfo is not None:
        raise ValueOutOfRange("time", "give the meter's local time as a naive datetime")
    return _command(t.SETTIME, code, {"time": format_time(local)}, oprid)


def _check_span(address: int, count: int, value_type: str) -> None:
    if value_type not in (INT_TYPE, FLOAT_TYPE):
        raise ValueOutOfRange("type", f"must be '1' (int) or '2' (float), got {value_type!r}")
    if not 1 <= count <= MAX_VALUES:
        raise ValueOutOfRange("count", f"1-{MAX_VALUES} values per command, got {count}")
    span = count * (2 if value_type == FLOAT_TYPE else 1)
    if address < 0 or address + span > 0x10000:
        raise ValueOutOfRange("addr", f"registers {address}+{span} leave 0000-FFFF")


def _format_value(value: float, value_type: str) -> str:
    if value_type == INT_TYPE:
        if isinstance(value, bool) or not isinstance(value, int) or not -0x8000 <= value <= 0xFFFF:
            raise ValueOutOfRange("value", f"type 1 takes 16-bit integers, got {value!r}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueOutOfRange("value", f"type 2 takes finite numbers, got {value!r}")
    return repr(float(value))


def to_words(numbers: Sequence[float], value_type: str) -> list[int]:
    """SYS_CFG values as the register words they write: type "1" one 16-bit word each (a
    negative number in two's complement), type "2" a big-endian float32 in two words."""
    if value_type == FLOAT_TYPE:
        return list(struct.unpack(f">{2 * len(numbers)}H",
                                  struct.pack(f">{len(numbers)}f", *numbers)))
    words = []
    for n in numbers:
        if n != int(n) or not -0x8000 <= n <= 0xFFFF:
            raise ValueOutOfRange("value", f"{n!r} is not a 16-bit integer")
        words.append(int(n) & 0xFFFF)
    return words


def check_register_write(profile: Profile, address: int, values: Sequence[float],
                         value_type: str) -> None:
    """Refuse, before anything is sent, a SYS_CFG the meter would refuse by its profile: an
    address that does not start a writable register, a value outside the register's range or
    choices, or protected registers without the password first where the profile's password
    rule (``Profile.password_rule``) wants it in the same write."""
    words = to_words(values, value_type)
    offset, names = 0, []
    while offset < len(words):
        reg = profile.register_at("holding", address + offset)
        if reg is None or not reg.writable or offset + reg.words > len(words):
            raise ValueOutOfRange("addr", f"{address + offset:04X} does not start a writable "
                                  f"register of profile {profile.name!r} that fits the values")
        value = codec.decode(reg, words[offset:offset + reg.words])
        codec.validate(reg, value)
        names.append(reg.name)
        offset += reg.words
    rule = profile.password_rule
    guarded = [n for n in names if profile.is_protected(profile.register(n))]
    if guarded and rule.first_in_write and names[0] != rule.register:
        raise ValueOutOfRange(guarded[0], f"needs the password as the first value of the same "
                              f"write ({rule.source})")


def sys_cfg(
    code: str, address: int, values: Sequence[float], value_type: str = INT_TYPE,
    *, oprid: str | None = None, profile: Profile | None = None,
) -> Command:
    """Write ``values`` into the register space from ``address`` (type "1" int, "2" float).
    With ``profile``, values the meter would refuse are refused here, before sending."""
    _check_span(address, len(values), value_type)
    text = ";".join(_format_value(v, value_type) for v in values)
    if profile is not None:
        check_register_write(profile, address, values, value_type)
    fields = {"addr": f"{address:04X}", "value": text, "type": value_type}
    return _command(t.SYS_CFG, code, fields, oprid)


def sys_read(
    code: str, address: int, count: int, value_type: str = INT_TYPE, *, oprid: str | None = None
) -> Command:
    """Read ``count`` values from ``address``. V1.9 spells the count field ``lenth``."""
    _check_span(address, count, value_type)
    fields = {"addr": f"{address:04X}", "lenth": str(count), "type": value_type}
    return _command(t.SYS_READ, code, fields, oprid)


def _level_cmd(level: str) -> str:
    if level not in LEVEL_CMD:
        raise ValueOutOfRange("level", f"must be 'second' or 'minute', got {level!r}")
    return LEVEL_CMD[level]


def commod_set(code: str, level: str, value: int, *, oprid: str | None = None,
               profile: Profile | None = None) -> Command:
    """Set the second-level (seconds) or minute-level (minutes) upload interval. With
    ``profile``, a value V1.9 allows but the meter's own list does not is refused too."""
    cmd = _level_cmd(level)
    check_interval(profile, level, value)
    return _command(t.COMMOD_SET, code, {"Cmd": cmd, "value": str(value), "types": "1"}, oprid)


def check_interval(profile: Profile | None, level: str, value: int) -> None:
    """ValueOutOfRange unless ``value`` is an upload interval V1.9 allows and, with
    ``profile``, the meter's own list too (the KPM37 manual's SECF has no 600 s)."""
    if value not in INTERVAL_CHOICES[_level(level)]:
        raise ValueOutOfRange("value", f"{level} interval must be one of "
                              f"{INTERVAL_CHOICES[level]}, got {value!r}")
    if profile is not None and profile.has(INTERVAL_PARAMETER[level]):
        codec.validate(profile.register(INTERVAL_PARAMETER[level]), value)


def _level(level: str) -> str:
    _level_cmd(level)
    return level


def commod_read(code: str, level: str, *, oprid: str | None = None) -> Command:
    """Ask for the current upload interval of ``level``."""
    return _command(t.COMMOD_READ, code, {"Cmd": _level_cmd(level)}, oprid)


def reconfig(code: str, *, oprid: str | None = None) -> Command:
    """Reset the meter's MQTT settings."""
    return _command(t.RECONFIG, code, {}, oprid)


def set_broker(code: str, parts: Sequence[str], *, oprid: str | None = None) -> Command:
    """Broker settings ``ip;port;user;password[;wifi ssid;wifi password;...]``."""
    if len(parts) < 4:
        raise ValueOutOfRange("info", "needs at least ip, port, user and password")
    for part in parts:
        if ";" in part:
            raise ValueOutOfRange("info", f"';' cannot appear inside a setting: {part!r}")
    return _command(t.SET, code, {"info": ";".join(parts)}, oprid)
