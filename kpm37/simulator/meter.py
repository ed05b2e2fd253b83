"""The simulated meter: one KPM37 (or any profiled meter) as a device model, with no sockets.

The Modbus and MQTT simulators serve this model on real sockets. It answers register reads and
writes exactly as its profile describes, refuses what a real meter would refuse (Modbus
exception codes 2, 3, 4), accumulates energy into the TOU rate given by its *own* clock and
tables, freezes monthly readings on the billing day, raises alarms from its thresholds and
drives its relays. Every public method takes the lock, since servers may run in threads.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kpm37 import codec
from kpm37.errors import ModbusExceptionResponse, ValueOutOfRange
from kpm37.profile import Profile, Register
from kpm37.quantities import ENERGY_COUNTERS, QUANTITIES, Rate, rate_counter
from kpm37.simulator.clock import SimClock
from kpm37.tou import DaySlot, TariffSet, TouProgram, ZoneEntry, decode_program, encode_program

READ_HOLDING, READ_COILS, WRITE_COIL, WRITE_REGISTERS = 0x03, 0x01, 0x05, 0x10
ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE = 2, 3, 4
UNLOCK_SECONDS = 60  # assumed: like the front panel, a correct password unlocks for 60 s
ALARMS = ("voltage_loss", "under_voltage", "over_voltage", "over_current", "overload",
          "voltage_unbalance", "current_unbalance")
MONTHS_KEPT = 12
MAX_STEP = timedelta(minutes=15)  # energy integration step while the load follows the day

# Used when the profile has no TOU registers (e.g. the KPM33B): valley at night, peak mornings,
# sharp evenings, flat otherwise, all year.
DEFAULT_PROGRAM = TouProgram(set_a=TariffSet(
    zones=[ZoneEntry(1, 1, 1)],
    day_tables={1: [DaySlot(0, 0, 4), DaySlot(7, 0, 3), DaySlot(10, 0, 2), DaySlot(12, 0, 3),
                    DaySlot(17, 0, 1), DaySlot(21, 0, 3), DaySlot(23, 0, 4)]}))


@dataclass
class Faults:
    """Misbehaviour on demand; the socket servers act on these, the model only holds them."""

    silent: bool = False
    corrupt_crc: bool = False
    duplicate_messages: bool = False
    zero_messages: bool = False
    wrong_unit: bool = False
    slow_ms: int = 0


@dataclass
class Load:
    """What the meter sees on its terminals (primary side), per phase A, B, C."""

    voltage: list[float]
    current: list[float]
    power_factor: float


def _refuse(function: int, code: int) -> ModbusExceptionResponse:
    return ModbusExceptionResponse(function, code)


class SimMeter:
    """A meter that behaves like the profile says. See the module docstring."""

    def __init__(self, profile: Profile, *, code: str, address: int,
                 clock: SimClock | None = None, seed: int = 0, timezone: str = "UTC") -> None:
        self.profile = profile
        self.code = code
        self.address = address
        self.clock = clock or SimClock(timezone=timezone)
        self.faults = Faults()
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._values: dict[str, Any] = {r.name: _initial(r) for r in profile.registers}
        self._index = {(r.table, r.address + i): r for r in profile.registers
                       for i in range(r.words)}
        self._history = _history_series(profile)
        self._frozen: dict[tuple[int, int], dict[str, float]] = {}
        self._relays: dict[str, bool] = {r.name: False for r in profile.by_group("relay")
                                         if r.table == "coil"}
        self._pulse_until: dict[str, datetime] = {}
        self._unlocked_until: datetime | None = None
        self._program_cache: TouProgram | None = None
        self._identity(code, address)
        self._seed_energy()
        self.load = self._seeded_load()
        self.daily_swing = 0.3  # current follows the time of day by +-30 % until set_load pins it
        self._pinned = False
        self._clock_generation = self.clock.generation
        self._last_local = self.clock.now_local()
        self._refresh()

    # --- identity and initial state ----------------------------------------------------------

    def _identity(self, code: str, address: int) -> None:
        self._set_if_present("serial_number", code[:14])
        self._set_if_present("modbus_address", address)
        self._set_if_present("firmware_version", 452)
        if self.profile.has("tou_zone_a_01_month"):
            self._values |= encode_program(self.profile, DEFAULT_PROGRAM, "all")

    def _set_if_present(self, name: str, value: Any) -> None:
        if self.profile.has(name):
            self._values[name] = value

    def _seed_energy(self) -> None:
        for name in ENERGY_COUNTERS:
            self._values[name] = 0.0
        total = round(self._rng.uniform(100.0, 5000.0), 1)
        shares = (0.1, 0.3, 0.35, 0.25)  # sharp, peak, flat, valley: a plausible history
        for rate, share in zip(list(Rate)[:4], shares, strict=True):
            self._values[rate_counter("import", rate)] = total * share
            self._values[rate_counter("import", rate, reactive=True)] = total * share * 0.3
        self._values["import_active_energy"] = total
        self._values["import_reactive_energy"] = total * 0.3

    def _seeded_load(self) -> Load:
        rated_v = float(self._values.get("rated_voltage") or 220)
        rated_i = float(self._values.get("rated_current") or 5)
        base_v = rated_v * self._rng.uniform(0.98, 1.02)
        base_i = rated_i * self._rng.uniform(0.2, 0.6)
        return Load(voltage=[base_v * self._rng.uniform(0.997, 1.003) for _ in range(3)],
                    current=[base_i * self._rng.uniform(0.98, 1.02) for _ in range(3)],
                    power_factor=round(self._rng.uniform(0.85, 0.99), 3))

    # --- time ----------------------------------------------------------------------------------

    def tick(self, utc_now: datetime | None = None) -> None:
        """Advance to ``utc_now``: energy per TOU rate, billing freezes, alarms, relay pulses.

        Reads call this too, so a served meter is always current. A clock jump (set_local)
        restarts counting from the new time without inventing energy for the jump."""
        with self.lock:
            local = self.clock.now_local(utc_now)
            if self.clock.generation != self._clock_generation:
                self._clock_generation = self.clock.generation
            elif local > self._last_local:
                self._advance(self._last_local, local)
            else:
                return
            self._last_local = local
            self._expire_pulses(local)
            self._refresh()

    def _advance(self, start: datetime, end: datetime) -> None:
        program = self._program()
        cursor = start
        while cursor < end:
            freeze_at = self._next_freeze(cursor)
            step_end = min(program.next_change(cursor), freeze_at, end,
                           cursor + (MAX_STEP if self._swinging() else timedelta(days=1)))
            self._accumulate(self._rate_at(program, cursor), self._load_at(cursor),
                             (step_end - cursor).total_seconds() / 3600.0)
            cursor = step_end
            if cursor == freeze_at:
                self._freeze(cursor)

    def _rate_at(self, program: TouProgram, local: datetime) -> Rate:
        try:
            return program.rate_at(local)
        except ValueError:
            return Rate.FLAT  # no usable TOU program: bill everything to flat

    def _accumulate(self, rate: Rate, load: Load, hours: float) -> None:
        active, reactive = _power(load)
        for value, is_reactive in ((active, False), (reactive, True)):
            direction = "import" if value >= 0 else "export"
            energy = abs(value) * hours
            kind = "reactive" if is_reactive else "active"
            self._values[f"{direction}_{kind}_energy"] += energy
            self._values[rate_counter(direction, rate, reactive=is_reactive)] += energy

    def _next_freeze(self, local: datetime) -> datetime:
        day = int(self._values.get("billing_day") or 1)
        moment = datetime(local.year, local.month, day)  # noqa: DTZ001 - meter local time
        if moment <= local:
            year, month = divmod(local.year * 12 + local.month, 12)
            moment = datetime(year, month + 1, day)  # noqa: DTZ001
        return moment

    def _freeze(self, local: datetime) -> None:
        """Freeze all counters, keyed by the month in which the billing moment falls."""
        self._frozen[(local.year, local.month)] = {n: self._values[n] for n in ENERGY_COUNTERS}
        for key in sorted(self._frozen)[:-MONTHS_KEPT]:
            del self._frozen[key]

    def _program(self) -> TouProgram:
        if not self.profile.has("tou_zone_a_01_month"):
            return DEFAULT_PROGRAM
        if self._program_cache is None:
            self._program_cache = decode_program(self.profile, self._values)
        return self._program_cache

    def _expire_pulses(self, local: datetime) -> None:
        for name, until in list(self._pulse_until.items()):
            if local >= until:
                self._relays[name] = False
                del self._pulse_until[name]

    # --- derived values ------------------------------------------------------------------------

    def _swinging(self) -> bool:
        return not self._pinned and self.daily_swing != 0

    def _load_at(self, local: datetime) -> Load:
        """The load at meter-local time: the seeded load, swung by the time of day (peaking
        mid-afternoon, lowest at night) unless a test or demo pinned it with set_load."""
        if not self._swinging():
            return self.load
        hours = local.hour + local.minute / 60
        factor = 1 + self.daily_swing * math.sin(2 * math.pi * (hours - 9) / 24)
        return Load(list(self.load.voltage), [i * factor for i in self.load.current],
                    self.load.power_factor)

    def _present_load(self) -> Load:
        return self._load_at(self._last_local)

    def _refresh(self) -> None:
        load = self._present_load()
        self._values |= _measurements(load, self._rng_fixed())
        active, _ = _power(load)
        self._values["active_demand"] = active
        self._values["max_active_demand"] = max(self._values.get("max_active_demand") or 0.0,
                                                active)
        alarms = self._compute_alarms()
        self._values["alarm_flags"] = sum(1 << ALARMS.index(a) for a in alarms)
        self._alarm_relays(bool(alarms))
        self._values["do_state"] = sum(1 << i for i, name in enumerate(sorted(self._relays))
                                       if self._relays[name])
        self._values.setdefault("di_state", 0)
        self._refresh_history()

    def _rng_fixed(self) -> random.Random:
        return random.Random(self.code)  # per-meter constants (temperatures, THD) stay put

    def _refresh_history(self) -> None:
        frozen = [self._frozen[k] for k in sorted(self._frozen, reverse=True)]
        for name, quantity, months_ago in self._history:
            if months_ago == 0:
                self._values[name] = self._values[quantity]
            elif months_ago <= len(frozen):
                self._values[name] = frozen[months_ago - 1][quantity]

    def _compute_alarms(self) -> set[str]:
        v = self._values
        un = float(v.get("rated_voltage") or 220) * float(v.get("pt_ratio") or 1)
        in_ = float(v.get("rated_current") or 5) * float(v.get("ct_ratio") or 1)
        load = self._present_load()
        volts, amps = load.voltage, load.current
        active, _ = _power(load)
        checks: dict[str, Callable[[float], bool]] = {
            "voltage_loss": lambda t: any(x < t / 100 * un for x in volts),
            "under_voltage": lambda t: any(_loss_threshold(v) / 100 * un <= x < t / 100 * un
                                           for x in volts),
            "over_voltage": lambda t: any(x > t / 100 * un for x in volts),
            "over_current": lambda t: any(x > t / 100 * in_ for x in amps),
            "overload": lambda t: active > t / 100 * (3 * un * in_ / 1000),
            "voltage_unbalance": lambda t: _unbalance(volts) > t,
            "current_unbalance": lambda t: _unbalance(amps) > t,
        }
        flags = set()
        for alarm, check in checks.items():
            threshold = v.get(f"{alarm}_threshold")
            if threshold and check(float(threshold)):  # a threshold of 0 disables the alarm
                flags.add(alarm)
        return flags

    def _alarm_relays(self, alarm_active: bool) -> None:
        for name in self._relays:
            if self._values.get(f"{name}_control_mode") == 1:
                self._relays[name] = alarm_active

    # --- Modbus-facing API ---------------------------------------------------------------------

    def read_registers(self, address: int, count: int) -> list[int]:
        """Holding registers ``address .. address+count-1`` (function 03)."""
        with self.lock:
            if not 1 <= count <= self.profile.max_read:
                raise _refuse(READ_HOLDING, ILLEGAL_VALUE)
            if self.profile.block_of("holding", address, address + count) is None:
                raise _refuse(READ_HOLDING, ILLEGAL_ADDRESS)
            self.tick()
            words: list[int] = []
            encoded: dict[str, list[int]] = {}
            for addr in range(address, address + count):
                reg = self._index.get(("holding", addr))
                if reg is None:
                    words.append(0)
                    continue
                if reg.name not in encoded:
                    encoded[reg.name] = self._encode_current(reg)
                words.append(encoded[reg.name][addr - reg.address])
            return words

    def _encode_current(self, reg: Register) -> list[int]:
        if not reg.readable:
            return [0] * reg.words
        try:
            return codec.encode(reg, self._current(reg))
        except ValueOutOfRange:  # e.g. a clock set years outside 2000-2099 reads as unset
            return [0] * reg.words

    def _current(self, reg: Register) -> Any:
        if reg.name == "clock":
            return self.clock.now_local().replace(microsecond=0)
        return self._values.get(reg.name)

    def read_coils(self, address: int, count: int) -> list[bool]:
        """Relay states (function 01)."""
        with self.lock:
            if not 1 <= count <= self.profile.max_coils:
                raise _refuse(READ_COILS, ILLEGAL_VALUE)
            if self.profile.block_of("coil", address, address + count) is None:
                raise _refuse(READ_COILS, ILLEGAL_ADDRESS)
            self.tick()
            out = []
            for addr in range(address, address + count):
                reg = self._index.get(("coil", addr))
                out.append(bool(reg and self._relays.get(reg.name)))
            return out

    def write_coil(self, address: int, value: bool) -> None:
        """Switch a relay (function 05); refused with exception 4 unless in remote mode."""
        with self.lock:
            reg = self.profile.register_at("coil", address)
            if reg is None or not reg.writable:
                raise _refuse(WRITE_COIL, ILLEGAL_ADDRESS)
            self.tick()
            if self._values.get(f"{reg.name}_control_mode") == 1:
                raise _refuse(WRITE_COIL, DEVICE_FAILURE)
            self._switch(reg.name, value)
            self._refresh()

    def _switch(self, name: str, value: bool) -> None:
        self._relays[name] = bool(value)
        self._pulse_until.pop(name, None)
        if value and self._values.get(f"{name}_output_mode") == 1:
            width = float(self._values.get(f"{name}_pulse_ms") or 200)
            self._pulse_until[name] = self.clock.now_local() + timedelta(milliseconds=width)

    def write_registers(self, address: int, values: list[int]) -> None:
        """Write a run of registers (function 16), all or nothing.

        Exception 2: an address that is not the start of a writable register inside the frame;
        3: a value outside the profile's range or choices; 4: the password rule is broken."""
        with self.lock:
            decoded = self._decode_frame(address, values)
            self._check_password(decoded)
            self.tick()
            for reg, value in decoded:
                self._apply(reg, value)
            self._refresh()

    def _decode_frame(self, address: int, words: list[int]) -> list[tuple[Register, Any]]:
        if not 1 <= len(words) <= self.profile.max_write:
            raise _refuse(WRITE_REGISTERS, ILLEGAL_VALUE)
        out: list[tuple[Register, Any]] = []
        offset = 0
        while offset < len(words):
            reg = self.profile.register_at("holding", address + offset)
            if reg is None or not reg.writable or offset + reg.words > len(words):
                raise _refuse(WRITE_REGISTERS, ILLEGAL_ADDRESS)
            try:
                value = codec.decode(reg, words[offset:offset + reg.words])
                codec.validate(reg, value)
            except ValueOutOfRange:
                raise _refuse(WRITE_REGISTERS, ILLEGAL_VALUE) from None
            out.append((reg, value))
            offset += reg.words
        return out

    def _check_password(self, decoded: list[tuple[Register, Any]]) -> None:
        password = self.profile.password_register
        if password is None:
            return
        now = self.clock.now_local()
        names = [reg.name for reg, _ in decoded]
        in_frame = password in names
        if in_frame:
            if dict((r.name, v) for r, v in decoded)[password] != self._values[password]:
                raise _refuse(WRITE_REGISTERS, DEVICE_FAILURE)
            if self.profile.password_first and names[0] != password:
                raise _refuse(WRITE_REGISTERS, DEVICE_FAILURE)
        session = (not self.profile.password_first and self._unlocked_until is not None
                   and now < self._unlocked_until)
        if any(self.profile.is_protected(r) for r, _ in decoded) and not (in_frame or session):
            raise _refuse(WRITE_REGISTERS, DEVICE_FAILURE)
        if in_frame:
            self._unlocked_until = now + timedelta(seconds=UNLOCK_SECONDS)

    def _apply(self, reg: Register, value: Any) -> None:
        name = reg.name
        if name == self.profile.password_register:
            return  # writing the right password unlocks; it changes through new_password
        if name == "clock":
            self.clock.set_local(value)
            self._clock_generation = self.clock.generation
            self._last_local = self.clock.now_local()
        elif name == "clear_energy":
            self.reset_energy()
        elif name == "clear_max_min":
            self._values["max_active_demand"] = 0.0
        elif name == "new_password" and self.profile.password_register:
            self._values[self.profile.password_register] = value
        elif reg.access == "rw":
            self._values[name] = value
            if reg.group == "tou":
                self._program_cache = None
            if name.endswith(("_control_mode", "_output_mode")):
                self._pulse_until.pop(name.split("_", 1)[0], None)

    # --- convenience for tests and demos -------------------------------------------------------

    def quantities(self) -> dict[str, float]:
        """Every canonical quantity the meter knows, by name (see kpm37/quantities.py)."""
        with self.lock:
            self.tick()
            return {r.name: float(self._values[r.name]) for r in self.profile.registers
                    if r.name in QUANTITIES}

    def parameter(self, name: str) -> Any:
        """The current value of register ``name`` (KeyError if the profile has none)."""
        with self.lock:
            return self._current(self.profile.register(name))

    def set_parameter(self, name: str, value: Any) -> None:
        """Set any register as if from the front panel (range-checked, no password)."""
        with self.lock:
            reg = self.profile.register(name)
            codec.validate(reg, value, check_access=False)
            if reg.access == "r":
                self._values[name] = value
            else:
                self._apply(reg, value)
            self._refresh()

    def frozen_month(self, year: int, month: int) -> dict[str, float] | None:
        """Counters frozen on the billing day that fell in ``year``-``month``, if still kept."""
        with self.lock:
            self.tick()
            frozen = self._frozen.get((year, month))
            return dict(frozen) if frozen is not None else None

    def set_load(self, *, voltage: float | None = None, current: float | None = None,
                 power_factor: float | None = None) -> None:
        """Drive the terminals (all three phases): for demos and to provoke alarms."""
        with self.lock:
            self.tick()  # energy so far accrues at the old load
            if voltage is not None:
                self.load.voltage = [float(voltage)] * 3
            if current is not None:
                self.load.current = [float(current)] * 3
            if power_factor is not None:
                if not -1 <= power_factor <= 1:
                    raise ValueOutOfRange("power_factor", f"{power_factor} is not in -1..1")
                self.load.power_factor = float(power_factor)
            self._pinned = True
            self._refresh()

    def reset_energy(self) -> None:
        """Counters to zero, as a replaced or reset meter (a fault the platform must catch)."""
        with self.lock:
            for name in ENERGY_COUNTERS:
                self._values[name] = 0.0
            self._refresh_history()

    def alarms(self) -> set[str]:
        """Active alarm flags (names from ALARMS)."""
        with self.lock:
            self.tick()
            return self._compute_alarms()

    def relay(self, name: str) -> bool:
        """Whether relay ``name`` (e.g. "do1") is closed."""
        with self.lock:
            self.tick()
            return self._relays[name]


def _loss_threshold(values: dict[str, Any]) -> float:
    """The voltage-loss threshold (% Un), below which under-voltage gives way to loss."""
    return float(values.get("voltage_loss_threshold") or 0)


def _power(load: Load) -> tuple[float, float]:
    """(total active kW, total reactive kvar); a negative power factor means export."""
    pf = load.power_factor
    s = sum(v * i for v, i in zip(load.voltage, load.current, strict=True)) / 1000
    return s * pf, s * math.sqrt(max(0.0, 1 - pf * pf))


def _unbalance(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return 0.0 if mean <= 0 else max(abs(x - mean) for x in values) / mean * 100


def _initial(reg: Register) -> Any:
    if reg.default is not None:
        return reg.default
    if reg.type == "ascii":
        return ""
    if reg.type in ("bcd_clock",):
        return None
    if reg.type == "bit":
        return False
    return 0.0 if reg.type == "float32" else 0


def _history_series(profile: Profile) -> list[tuple[str, str, int]]:
    """(register, quantity, months ago) for registers named ``hist_<quantity>_mNN``."""
    out = []
    for reg in profile.by_group("history"):
        stem, _, months = reg.name.removeprefix("hist_").rpartition("_m")
        if stem in QUANTITIES and months.isdigit():
            out.append((reg.name, stem, int(months)))
    return out


def _measurements(load: Load, rng: random.Random) -> dict[str, float]:
    """Instantaneous quantities of a balanced-ish inductive load, 120 degrees between phases."""
    out: dict[str, float] = {}
    pf = load.power_factor
    sin = math.sqrt(max(0.0, 1 - pf * pf))
    for p, v, i in zip("abc", load.voltage, load.current, strict=True):
        s = v * i / 1000
        out |= {f"voltage_{p}": v, f"current_{p}": i, f"apparent_power_{p}": s,
                f"active_power_{p}": s * pf, f"reactive_power_{p}": s * sin,
                f"power_factor_{p}": pf}
    va, vb, vc = load.voltage
    for name, x, y in (("ab", va, vb), ("bc", vb, vc), ("ca", vc, va)):
        out[f"voltage_{name}"] = math.sqrt(x * x + y * y + x * y)
    for kind in ("active_power", "reactive_power", "apparent_power"):
        out[f"{kind}_total"] = sum(out[f"{kind}_{p}"] for p in "abc")
    out["power_factor_total"] = pf
    out["apparent_demand"] = out["apparent_power_total"]
    out["reactive_demand"] = out["reactive_power_total"]
    out["max_apparent_demand"] = out["apparent_power_total"]
    out["voltage_unbalance"] = _unbalance(load.voltage)
    out["current_unbalance"] = _unbalance(load.current)
    out["frequency"] = 50.0 + rng.uniform(-0.03, 0.03)
    out |= {f"temperature_{t}": 25.0 + rng.uniform(-3, 8) for t in "abcn"}
    out["residual_current"] = rng.uniform(1, 15)
    for ui in ("voltage", "current"):
        for p in "abc":
            out[f"thd_{ui}_{p}"] = rng.uniform(1, 4) * (2 if ui == "current" else 1)
            out |= {f"h{h}_{ui}_{p}": rng.uniform(0.1, 2) / h * 3 for h in (3, 5, 7)}
    return out
