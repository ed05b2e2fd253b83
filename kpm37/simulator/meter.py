"""The simulated meter: one KPM37 (or any profiled meter) as a device model, with no sockets.

The Modbus and MQTT simulators serve this model on real sockets. It answers register reads and
writes exactly as its profile describes, refuses what a real meter would refuse (Modbus
exception codes 2, 3, 4), accumulates energy into the TOU rate given by its *own* clock and
tables, freezes monthly readings on the billing day, raises alarms from its thresholds and
drives its relays. Every public method takes the lock, since servers may run in threads.

This module is the public import location. The parts: :mod:`.meter_state` (state and time),
:mod:`.register_image` and :mod:`.password` (Modbus access rules), :mod:`.energy` (TOU
counters, monthly freeze), :mod:`.alarms`, :mod:`.relays` and :mod:`.terminals` (the load).
"""

from __future__ import annotations

from typing import Any

from kpm37 import codec
from kpm37.errors import ValueOutOfRange
from kpm37.quantities import QUANTITIES
from kpm37.simulator.alarms import ALARMS
from kpm37.simulator.energy import DEFAULT_PROGRAM, MAX_STEP, MONTHS_KEPT
from kpm37.simulator.meter_state import Faults, MeterState
from kpm37.simulator.register_image import (
    DEVICE_FAILURE,
    ILLEGAL_ADDRESS,
    ILLEGAL_VALUE,
    READ_COILS,
    READ_HOLDING,
    WRITE_COIL,
    WRITE_REGISTERS,
    refuse,
)
from kpm37.simulator.terminals import Load

__all__ = [
    "ALARMS", "DEFAULT_PROGRAM", "DEVICE_FAILURE", "ILLEGAL_ADDRESS", "ILLEGAL_VALUE", "MAX_STEP",
    "MONTHS_KEPT", "READ_COILS", "READ_HOLDING", "WRITE_COIL",
    "WRITE_REGISTERS", "Faults", "Load", "SimMeter",
]


class SimMeter(MeterState):
    """A meter that behaves like the profile says. See the module docstring."""

    # --- Modbus-facing API ---------------------------------------------------------------------

    def read_registers(self, address: int, count: int) -> list[int]:
        """Holding registers ``address .. address+count-1`` (function 03)."""
        with self.lock:
            self._image.check_read(address, count)
            self.tick()
            return self._image.words(address, count, self._current)

    def read_coils(self, address: int, count: int) -> list[bool]:
        """Relay states (function 01)."""
        with self.lock:
            self._image.check_coil_read(address, count)
            self.tick()
            return [self._relays.coil(reg) for reg in self._image.coils(address, count)]

    def write_coil(self, address: int, value: bool) -> None:
        """Switch a relay (function 05); refused with exception 4 unless in remote mode."""
        with self.lock:
            reg = self._image.writable_coil(address)
            self.tick()
            if self._relays.follows_alarms(reg.name):
                raise refuse(WRITE_COIL, DEVICE_FAILURE)
            self._relays.switch(reg.name, value, self.clock.now_local())
            self._refresh()

    def write_registers(self, address: int, values: list[int]) -> None:
        """Write a run of registers (function 16), all or nothing.

        Exception 2: an address that is not the start of a writable register inside the frame;
        3: a value outside the profile's range or choices; 4: the password rule is broken."""
        with self.lock:
            decoded = self._image.decode_frame(address, values)
            self._password.check(decoded, self._values, self.clock)
            self.tick()
            for reg, value in decoded:
                self._apply(reg, value)
            self._refresh()

    # --- convenience for tests and demos -------------------------------------------------------

    def quantities(self) -> dict[str, float]:
        """Every canonical quantity the meter knows, by name (see kpm37/quantities.py)."""
        with self.lock:
            self.tick()
            return {name: float(value) for name, value in self._values.items()
                    if name in QUANTITIES and value is not None}

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
            return self._energy.frozen_month(year, month)

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

    @property
    def pinned(self) -> bool:
        """Whether set_load fixed the load (the current no longer follows the time of day)."""
        return self._pinned

    def release_load(self, *, pinned: bool = False) -> None:
        """Undo set_load's pin: the current follows the time of day again (unless ``pinned``)."""
        with self.lock:
            self.tick()
            self._pinned = pinned
            self._refresh()

    def reset_energy(self) -> None:
        """Counters to zero, as a replaced or reset meter (a fault the platform must catch)."""
        with self.lock:
            self._energy.reset()

    def alarms(self) -> set[str]:
        """Active alarm flags (names from ALARMS)."""
        with self.lock:
            self.tick()
            return self._alarms()

    def relay(self, name: str) -> bool:
        """Whether relay ``name`` (e.g. "do1") is closed."""
        with self.lock:
            self.tick()
            return self._relays.is_closed(name)
