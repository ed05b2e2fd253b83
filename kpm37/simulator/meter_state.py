"""The state of a simulated meter and how it moves with time; :mod:`.meter` adds the public API.

The state is one dict of register values by name, shared with the parts that keep it: the
energy book (counters, freezes, history), the relay bank and the derived readings. ``tick``
brings everything up to the meter's own clock; ``_refresh`` recomputes what follows from the
load (readings, demand, alarms, relays driven by alarms).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kpm37.profile import Profile, Register
from kpm37.simulator.alarms import active_alarms, alarm_flags
from kpm37.simulator.clock import SimClock
from kpm37.simulator.demand import DEFAULT_WINDOW_MINUTES, DemandBook
from kpm37.simulator.energy import DEFAULT_PROGRAM, EnergyBook
from kpm37.simulator.password import PasswordLock
from kpm37.simulator.register_image import RegisterImage, initial_values
from kpm37.simulator.relays import RelayBank
from kpm37.simulator.terminals import Load, harmonic_amps, measurements, seeded_load, swung
from kpm37.tou import encode_program


@dataclass
class Faults:
    """Misbehaviour on demand; the socket servers act on these, the model only holds them."""

    silent: bool = False
    corrupt_crc: bool = False
    duplicate_messages: bool = False
    zero_messages: bool = False
    wrong_unit: bool = False
    slow_ms: int = 0


class MeterState:
    """A meter's register values, load, clock and parts. Use :class:`.meter.SimMeter`."""

    def __init__(self, profile: Profile, *, code: str, address: int,
                 clock: SimClock | None = None, seed: int = 0, timezone: str = "UTC") -> None:
        self.profile = profile
        self.code = code
        self.address = address
        self.clock = clock or SimClock(timezone=timezone)
        self.faults = Faults()
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._values: dict[str, Any] = initial_values(profile)
        self._image = RegisterImage(profile)
        self._energy = EnergyBook(profile, self._values)
        self._relays = RelayBank(profile, self._values)
        self._password = PasswordLock(profile)
        self._zone = ZoneInfo(timezone)
        self._demand = DemandBook(self._window_minutes, self._epoch_of)
        self._energy.on_freeze = self._demand.restart_month
        self._identity(code, address)
        self._energy.seed(self._rng)
        self.load = seeded_load(self._values, self._rng)
        self.daily_swing = 0.3  # current follows the time of day by +-30 % until set_load pins it
        self._pinned = False
        self._clock_generation = self.clock.generation
        self._last_local = self.clock.now_local()
        self._refresh()

    def _identity(self, code: str, address: int) -> None:
        self._set_if_present("serial_number", code[:14])
        self._set_if_present("modbus_address", address)
        self._set_if_present("firmware_version", 452)
        if self.profile.has("tou_zone_a_01_month"):
            self._values |= encode_program(self.profile, DEFAULT_PROGRAM, "all")

    def _set_if_present(self, name: str, value: Any) -> None:
        if self.profile.has(name):
            self._values[name] = value

    # --- time ----------------------------------------------------------------------------------

    def tick(self, utc_now: datetime | None = None) -> None:
        """Advance to ``utc_now``: energy per TOU rate, billing freezes, alarms, relay pulses.

        Reads call this too, so a served meter is always current. A clock jump (set_local)
        restarts counting from the new time without inventing energy for the jump."""
        with self.lock:
            local = self.clock.now_local(utc_now)
            if self.clock.generation != self._clock_generation:
                self._clock_generation = self.clock.generation
                self._demand.restart()
            elif local > self._last_local:
                self._energy.advance(self._last_local, local, self._sampled_load_at,
                                     self._swinging())
            else:
                return
            self._last_local = local
            self._relays.expire_pulses(local)
            self._refresh()

    def _swinging(self) -> bool:
        return not self._pinned and self.daily_swing != 0

    def _load_at(self, local: datetime) -> Load:
        """The load at meter-local time: the seeded load, swung by the time of day, unless a
        test or demo pinned it with set_load."""
        if not self._swinging():
            return self.load
        return swung(self.load, local, self.daily_swing)

    def _sampled_load_at(self, local: datetime) -> Load:
        """The load at ``local``, noted for demand: energy and demand see the same power."""
        load = self._load_at(local)
        self._demand.sample(local, load)
        return load

    def _window_minutes(self) -> int:
        return int(self._values.get("demand_window_minutes") or DEFAULT_WINDOW_MINUTES)

    def _epoch_of(self, local: datetime) -> float:
        return local.replace(tzinfo=self._zone).timestamp()

    def _present_load(self) -> Load:
        return self._load_at(self._last_local)

    # --- derived values ------------------------------------------------------------------------

    def _refresh(self) -> None:
        load = self._present_load()
        self._values |= measurements(load, random.Random(self.code))  # per-meter constants
        self._values |= harmonic_amps(self._values)
        self._demand.sample(self._last_local, load)
        self._values |= self._demand.values(self._last_local)
        alarms = self._alarms()
        self._values["alarm_flags"] = alarm_flags(alarms)
        self._relays.follow_alarms(bool(alarms))
        self._values["do_state"] = self._relays.do_state()
        self._values.setdefault("di_state", 0)
        self._energy.refresh_history()

    def _alarms(self) -> set[str]:
        return active_alarms(self._values, self._present_load())

    def _current(self, reg: Register) -> Any:
        if reg.name == "clock":
            return self.clock.now_local().replace(microsecond=0)
        return self._values.get(reg.name)

    # --- writes --------------------------------------------------------------------------------

    def _apply(self, reg: Register, value: Any) -> None:
        name = reg.name
        if name == self.profile.password_register:
            return  # writing the right password unlocks; it changes through new_password
        if name == "clock":
            self.clock.set_local(value)
            self._clock_generation = self.clock.generation
            self._last_local = self.clock.now_local()
        elif name == "clear_energy":
            self._energy.reset()
        elif name == "clear_max_min":
            self._demand.restart_month(self._last_local)
        elif name == "new_password" and self.profile.password_register:
            self._values[self.profile.password_register] = value
        elif reg.access == "rw":
            self._store(reg, value)

    def _store(self, reg: Register, value: Any) -> None:
        self._values[reg.name] = value
        if reg.group == "tou":
            self._energy.forget_program()
        if reg.name.endswith(("_control_mode", "_output_mode")):
            self._relays.cancel_pulse(reg.name.split("_", 1)[0])
