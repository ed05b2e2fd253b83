"""The password rule of a simulated meter: which register writes need the password, and how.

The rule is the profile's (``Profile.password_rule``, with its source): with
``first_in_write`` a frame that writes protected registers must carry the right password as
its first register; with ``unlock`` a correct password also unlocks later frames for the
rule's ``unlock_seconds``. A refusal is Modbus exception 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kpm37.profile import Profile, Register
from kpm37.simulator.clock import SimClock
from kpm37.simulator.register_image import DEVICE_FAILURE, WRITE_REGISTERS, refuse


class PasswordLock:
    """Checks write frames against the profile's password rule; remembers an unlock."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._unlocked_until: datetime | None = None

    def check(self, decoded: list[tuple[Register, Any]], values: Mapping[str, Any],
              clock: SimClock) -> None:
        """Refuse ``decoded`` (a write frame) unless the password rule allows it."""
        password = self._profile.password_register
        if password is None:
            return
        now = clock.now_local()
        in_frame = any(reg.name == password for reg, _ in decoded)
        if in_frame:
            self._check_frame(decoded, password, values[password])
        session = (not self._profile.password_first and self._unlocked_until is not None
                   and now < self._unlocked_until)
        protected = any(self._profile.is_protected(r) for r, _ in decoded)
        if protected and not (in_frame or session):
            raise refuse(WRITE_REGISTERS, DEVICE_FAILURE)
        if in_frame:
            seconds = self._profile.password_rule.unlock_seconds
            self._unlocked_until = now + timedelta(seconds=seconds)

    def _check_frame(self, decoded: list[tuple[Register, Any]], password: str,
                     stored: Any) -> None:
        """A frame carrying the password: it must be right, and first if the profile says so."""
        if dict((r.name, v) for r, v in decoded)[password] != stored:
            raise refuse(WRITE_REGISTERS, DEVICE_FAILURE)
        if self._profile.password_first and decoded[0][0].name != password:
            raise refuse(WRITE_REGISTERS, DEVICE_FAILURE)
