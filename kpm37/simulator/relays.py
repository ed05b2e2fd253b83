"""Relay outputs of a simulated meter: switched by operators, pulsed, or following alarms.

Each relay coil ``doN`` reads its modes from the meter's registers: ``doN_control_mode`` 1
means the relay follows the alarms (and refuses remote switching), ``doN_output_mode`` 1 means
a remote close is a pulse of ``doN_pulse_ms`` (200 ms when unset).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kpm37.profile import Profile, Register


class RelayBank:
    """The closed/open state of every relay coil in the profile, and pending pulse ends."""

    def __init__(self, profile: Profile, values: Mapping[str, Any]) -> None:
        self._values = values  # the meter's register values, shared: modes live there
        self._closed: dict[str, bool] = {r.name: False for r in profile.by_group("relay")
                                         if r.table == "coil"}
        self._pulse_until: dict[str, datetime] = {}

    def is_closed(self, name: str) -> bool:
        """Whether relay ``name`` is closed (KeyError for a name that is no relay)."""
        return self._closed[name]

    def coil(self, reg: Register | None) -> bool:
        """The coil bit for ``reg``: False for gaps and coils that are not relays."""
        return bool(reg and self._closed.get(reg.name))

    def follows_alarms(self, name: str) -> bool:
        """Whether relay ``name`` is in alarm mode (so remote switching is refused)."""
        return self._values.get(f"{name}_control_mode") == 1

    def switch(self, name: str, value: bool, now_local: datetime) -> None:
        """Open or close relay ``name``; a close in pulse mode reopens after the pulse width."""
        self._closed[name] = bool(value)
        self._pulse_until.pop(name, None)
        if value and self._values.get(f"{name}_output_mode") == 1:
            width = float(self._values.get(f"{name}_pulse_ms") or 200)
            self._pulse_until[name] = now_local + timedelta(milliseconds=width)

    def cancel_pulse(self, name: str) -> None:
        """Forget a pending pulse end (its relay's mode changed)."""
        self._pulse_until.pop(name, None)

    def expire_pulses(self, local: datetime) -> None:
        """Reopen relays whose pulse has ended by meter-local time ``local``."""
        for name, until in list(self._pulse_until.items()):
            if local >= until:
                self._closed[name] = False
                del self._pulse_until[name]

    def follow_alarms(self, alarm_active: bool) -> None:
        """Relays in alarm mode close while any alarm is active and open otherwise."""
        for name in self._closed:
            if self.follows_alarms(name):
                self._closed[name] = alarm_active

    def do_state(self) -> int:
        """The ``do_state`` register: one bit per relay, relays in name order."""
        return sum(1 << i for i, name in enumerate(sorted(self._closed)) if self._closed[name])
