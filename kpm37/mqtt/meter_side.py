"""What a V1.9 meter does with each command it receives: the simulator's command logic.

:class:`MeterSide` wraps a simulated meter (anything shaped like
``kpm37.simulator.meter.SimMeter``) and turns a command payload into reply payloads, the way
the real meter would: an oprid that is not exactly 32 characters gets no answer, a refused or
malformed command gets code "02" with a message, and register access goes through the meter's
own Modbus register space so both transports see the same state.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.mqtt import topics as t
from kpm37.mqtt.commands import (
    FLOAT_TYPE,
    INT_TYPE,
    INTERVAL_CHOICES,
    INTERVAL_PARAMETER,
    LEVEL_CMD,
    MAX_VALUES,
    to_words,
)
from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import decode_object, format_time, parse_time, to_number

Reply = dict[str, object]
RECALL_LAYOUT = (("zygdd", "fygdd", "zwgdd", "fwgdd"), ("zyjdd", "fyjdd", "zyfdd", "fyfdd"),
                 ("zypdd", "fypdd", "zyvdd", "fyvdd"))
"""V1.9 §4.6: the tags of the recall reply's data packets 2, 3 and 4, in order."""
RECALL_PACKETS = 1 + len(RECALL_LAYOUT)
NO_MSG = (t.SYS_CFG, t.COMMOD_SET)  # V1.9 §4.8 and §4.11 show these replies without "msg"
DEFAULT_INTERVAL = {"second": 30, "minute": 5}


class MeterLike(Protocol):
    """The part of the simulated meter the MQTT side uses."""

    code: str
    profile: Any
    faults: Any
    lock: Any
    clock: Any

    def quantities(self) -> dict[str, float]: ...
    def read_registers(self, address: int, count: int) -> list[int]: ...
    def write_registers(self, address: int, values: list[int]) -> None: ...
    def read_coils(self, address: int, count: int) -> list[bool]: ...
    def write_coil(self, address: int, value: bool) -> None: ...
    def frozen_month(self, year: int, month: int) -> dict[str, float] | None: ...
    def tick(self, utc_now: Any = None) -> None: ...
    def parameter(self, name: str) -> float: ...


class Refused(Exception):
    """The simulated meter refuses a command; the message goes into the "02" reply."""


def mqtt_mapping(meter: MeterLike) -> Mapping[str, Mapping[str, str]]:
    """The profile's topic -> {tag -> canonical name} mapping (empty if it has none)."""
    return getattr(meter.profile, "mqtt", None) or {}


def tags_for(meter: MeterLike, topic: str, values: Mapping[str, float]) -> dict[str, float]:
    """Canonical values -> V1.9 tags of ``topic`` (the profile mapping, reversed)."""
    mapping = mqtt_mapping(meter).get(topic, {})
    scale = getattr(meter.profile, "mqtt_scale", None) or {}
    return {tag: _publishable(values[name], scale.get(tag, 1.0))
            for tag, name in mapping.items() if name in values}


def _publishable(value: float, factor: float) -> float:
    # A scaled tag (e.g. ig in A for a quantity kept in mA) keeps the quantity's precision.
    digits = 4 + max(0, round(math.log10(factor))) if factor > 1 else 4
    return round(value / factor, digits)


@dataclass
class MeterSide:
    """Command handling and upload-interval state of one simulated MQTT meter."""

    meter: MeterLike
    broker_info: str | None = None
    reconfigured: int = 0

    def __post_init__(self) -> None:
        self._intervals = dict(DEFAULT_INTERVAL)

    def handle(self, base: str, payload: bytes) -> tuple[str | None, list[Reply]]:
        """Reply topic and reply payloads for one command (no payloads: no answer)."""
        try:
            data = {k: v for k, v in decode_object(payload).items()}
        except PayloadError:
            return None, []  # the real meter ignores what it cannot parse
        oprid = data.get("oprid")
        if not t.is_valid_oprid(oprid):
            return None, []
        assert isinstance(oprid, str)
        handler = self._handlers().get(base)
        if handler is None:
            return None, []
        head: Reply = {"id": self.meter.code, "oprid": oprid}
        try:
            with self.meter.lock:
                bodies = handler(data)
        except (Refused, PayloadError, ValueOutOfRange) as exc:
            bodies = [self._failure(base, data, str(exc))]
        except ModbusExceptionResponse as exc:
            bodies = [self._failure(base, data, f"refused: {exc}")]
        # V1.9 §4.6: only the first recall packet carries the oprid; the rest only the id
        heads = [head] + [{"id": self.meter.code}] * (len(bodies) - 1) if base == t.RECALL \
            else [head] * len(bodies)
        return t.REPLY_TOPIC[base], [{**h, **body} for h, body in zip(heads, bodies, strict=True)]

    def _failure(self, base: str, data: dict[str, object], reason: str) -> Reply:
        """V1.9's failure code "02", with the reason where V1.9's reply has a "msg"."""
        if base in NO_MSG:
            return {"code": "02"}
        if base == t.RECALL:
            return {"code": "02", "msg": reason, "frz_type": "2",
                    "time": str(data.get("date", "")), "isend": "1"}
        return {"code": "02", "msg": reason}

    def _handlers(self) -> dict[str, Callable[[dict[str, object]], list[Reply]]]:
        return {
            t.TELECTRL: self._telectrl, t.RECALL: self._recall, t.SETTIME: self._settime,
            t.SYS_CFG: self._sys_cfg, t.SYS_READ: self._sys_read,
            t.COMMOD_SET: self._commod_set, t.COMMOD_READ: self._commod_read,
            t.RECONFIG: self._reconfig, t.SET: self._set,
        }

    def do_bits(self) -> int:
        """Relay outputs as bits (bit 0 = DO1)."""
        states = self.meter.read_coils(1, 2)
        return sum(1 << i for i, on in enumerate(states) if on)

    # --- command handlers --------------------------------------------------------

    def _telectrl(self, data: dict[str, object]) -> list[Reply]:
        relays = {k.lower(): v for k, v in data.items() if k.lower() in ("do1", "do2")}
        if not relays:
            raise Refused("no do1 or do2 in command")
        for key, value in relays.items():
            if str(value) not in ("0", "1"):
                raise Refused(f"{key}: must be '0' or '1', got {value!r}")
            self.meter.write_coil(int(key[2]), str(value) == "1")
        return [{"code": "01", **{k: str(v) for k, v in relays.items()}}]

    def _recall(self, data: dict[str, object]) -> list[Reply]:
        date = str(data.get("date", ""))
        if len(date) != 6 or not date.isdigit() or not 1 <= int(date[4:]) <= 12:
            raise Refused(f"date: expected yyyyMM, got {date!r}")
        frozen = self.meter.frozen_month(int(date[:4]), int(date[4:]))
        if frozen is None:
            raise Refused(f"no frozen data for {date}")
        tags = tags_for(self.meter, "MQTT_RECALL_REP", frozen)
        first: Reply = {"code": "01", "msg": "", "frz_type": "2", "time": date, "isend": "0"}
        return [first] + [
            {"frz_type": "2", **{tag: tags.get(tag, 0.0) for tag in group}, "time": date,
             "isend": "1" if n == len(RECALL_LAYOUT) - 1 else "0"}
            for n, group in enumerate(RECALL_LAYOUT)
        ]

    def _settime(self, data: dict[str, object]) -> list[Reply]:
        local = parse_time(data.get("time"))
        self.meter.clock.set_local(local)
        return [{"code": "01", "time": format_time(local)}]

    def _sys_cfg(self, data: dict[str, object]) -> list[Reply]:
        address, value_type = _address(data), _value_type(data)
        texts = [p for p in str(data.get("value", "")).split(";") if p.strip()]
        if not 1 <= len(texts) <= MAX_VALUES:
            raise Refused(f"value: 1-{MAX_VALUES} values, got {len(texts)}")
        numbers = [to_number("value", p.strip()) for p in texts]
        self.meter.write_registers(address, to_words(numbers, value_type))
        return [{"code": "01"}]

    def _sys_read(self, data: dict[str, object]) -> list[Reply]:
        address, value_type = _address(data), _value_type(data)
        count = int(to_number("lenth", data.get("lenth")))
        if not 1 <= count <= MAX_VALUES:
            raise Refused(f"lenth: 1-{MAX_VALUES}, got {count}")
        words = self.meter.read_registers(address, count * (2 if value_type == FLOAT_TYPE else 1))
        return [{"code": "01", "addr": f"{address:04X}", "type": value_type,
                 "value": ";".join(_from_words(words, value_type))}]

    def _commod_set(self, data: dict[str, object]) -> list[Reply]:
        level = _level(data)
        value = int(to_number("value", data.get("value")))
        if value not in INTERVAL_CHOICES[level]:
            raise Refused(f"value: {level} interval must be one of {INTERVAL_CHOICES[level]}")
        self.set_interval(level, value)
        return [{"code": "01", "Cmd": LEVEL_CMD[level], "value": str(value)}]

    def _commod_read(self, data: dict[str, object]) -> list[Reply]:
        level = _level(data)
        return [{"code": "01", "Cmd": LEVEL_CMD[level], "value": str(self.interval(level))}]

    def _reconfig(self, _data: dict[str, object]) -> list[Reply]:
        self.reconfigured += 1
        return [{"code": "01"}]

    def _set(self, data: dict[str, object]) -> list[Reply]:
        self.broker_info = str(data.get("info", ""))
        return []  # V1.9 documents no reply

    # --- upload intervals ------------------------------------------------------------

    def interval(self, level: str) -> int:
        """The current upload interval of ``level`` (seconds for "second", minutes for
        "minute"), read from the meter's parameter when its profile has one."""
        try:
            value = int(self.meter.parameter(INTERVAL_PARAMETER[level]))
        except (KeyError, AttributeError, ValueError, TypeError, ModbusExceptionResponse):
            return self._intervals[level]
        return value if value in INTERVAL_CHOICES[level] else self._intervals[level]

    def set_interval(self, level: str, value: int) -> None:
        """Change an upload interval, in the meter's parameter too when it has one."""
        self._intervals[level] = value
        setter = getattr(self.meter, "set_parameter", None)
        has = getattr(self.meter.profile, "has", None)
        if setter is not None and has is not None and has(INTERVAL_PARAMETER[level]):
            # front-panel path: COMMOD_SET needs no password, unlike a register write
            setter(INTERVAL_PARAMETER[level], value)


def _address(data: Mapping[str, object]) -> int:
    text = str(data.get("addr", ""))
    try:
        address = int(text, 16)
    except ValueError:
        raise Refused(f"addr: expected 4 hex digits, got {text!r}") from None
    if len(text) != 4:
        raise Refused(f"addr: expected 4 hex digits, got {text!r}")
    return address


def _value_type(data: Mapping[str, object]) -> str:
    value_type = str(data.get("type", ""))
    if value_type not in (INT_TYPE, FLOAT_TYPE):
        raise Refused(f"type: must be '1' or '2', got {value_type!r}")
    return value_type


def _level(data: Mapping[str, object]) -> str:
    cmd = str(data.get("Cmd", data.get("cmd", "")))
    for level, code in LEVEL_CMD.items():
        if code == cmd:
            return level
    raise Refused(f"Cmd: must be 0000 or 0001, got {cmd!r}")


def _from_words(words: list[int], value_type: str) -> list[str]:
    if value_type == INT_TYPE:
        return [str(w) for w in words]
    floats = struct.unpack(f">{len(words) // 2}f", struct.pack(f">{len(words)}H", *words))
    return [f"{f:.7g}" for f in floats]
