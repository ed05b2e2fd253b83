"""What programming a plan into a meter writes, and how a meter's TOU state compares with
its plan. Pure functions of register values; the jobs that carry them are elsewhere.

The meter holds two physical sets, ``a`` and ``b``, an indicator of which one is active, and
a switch-over time per table kind after which the other one bills (see :mod:`kpm37.tou`).
Programming never touches the set that bills now: it writes the plan into the other one,
reads it back, and only then writes the indicator and switch-over times (contiguous
registers, one request), so a half-written table never becomes active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kpm37.profile import Profile
from kpm37.tou import TariffSet, TouProgram, decode_program, encode_program

Physical = Literal["a", "b"]
SWITCH_NAMES = ("tou_active_set", "tou_zone_switch_at", "tou_day_switch_at")


def other(physical: Physical) -> Physical:
    return "b" if physical == "a" else "a"


def set_names(profile: Profile, physical: Physical) -> list[str]:
    """Every register of one physical set (zones and day tables), in address order."""
    prefixes = (f"tou_zone_{physical}_", f"tou_day_{physical}_")
    return [r.name for r in profile.registers if r.name.startswith(prefixes)]


def set_values(profile: Profile, tariff: TariffSet, physical: Physical) -> dict[str, Any]:
    """Register values that make physical set ``physical`` hold ``tariff`` (unused entries
    zeroed, so nothing of an older, longer table survives)."""
    program = TouProgram(set_a=tariff, set_b=tariff)
    return encode_program(profile, program, physical)


def running_set(values: dict[str, Any], local_now: datetime) -> Physical:
    """The physical set whose day tables bill at meter-local ``local_now``."""
    active: Physical = "b" if values.get("tou_active_set") == 1 else "a"
    switch = values.get("tou_day_switch_at")
    return other(active) if switch is not None and local_now >= switch else active


def activation_values(running: Physical, at: datetime | None,
                      zones_at: datetime | None = None) -> dict[str, Any]:
    """Make the standby set's day tables bill from meter-local ``at`` and its zone table from
    ``zones_at``; ``None`` for both leaves ``running`` active with no switch pending."""
    return {"tou_active_set": 0 if running == "a" else 1,
            "tou_zone_switch_at": zones_at, "tou_day_switch_at": at}


def same_set(profile: Profile, values: dict[str, Any], physical: Physical,
             tariff: TariffSet) -> bool:
    """Whether the read-back ``values`` of ``physical`` hold exactly ``tariff``."""
    wanted = set_values(profile, tariff, physical)
    return all(values.get(name) == value for name, value in wanted.items())


def reported_program(profile: Profile, values: dict[str, Any]) -> TouProgram:
    return decode_program(profile, values)


@dataclass(frozen=True)
class SetState:
    """How one of the plan's sets stands on a meter: ``in-sync``, ``drifted``, ``pending``
    (written, becomes active at ``when``), ``failed`` (``why``) or ``unknown`` (never read)."""

    which: str          # "active" or "standby"
    state: str
    when: datetime | None = None
    why: str = ""


def compare_sets(profile: Profile, values: dict[str, Any] | None, local_now: datetime,
                 wanted: tuple[TariffSet, TariffSet]) -> list[SetState]:
    """The meter's sets (from read-back ``values``) against the sets that should bill now
    (``wanted[0]``) and stand by (``wanted[1]``); the caller swaps them once the plan's own
    switch-over has passed."""
    if not values:
        return [SetState("active", "unknown"), SetState("standby", "unknown")]
    running = running_set(values, local_now)
    standby = other(running)
    switch = values.get("tou_day_switch_at")
    pending_at = switch if switch is not None and switch > local_now else None
    if same_set(profile, values, running, wanted[0]):
        active = SetState("active", "in-sync")
    elif pending_at and same_set(profile, values, standby, wanted[0]):
        active = SetState("active", "pending", when=pending_at)
    else:
        active = SetState("active", "drifted")
    if active.state != "in-sync" or not same_set(profile, values, standby, wanted[1]):
        return [active, SetState("standby", "drifted")]
    if pending_at and wanted[1] != wanted[0]:
        return [active, SetState("standby", "pending", when=pending_at)]
    return [active, SetState("standby", "in-sync")]
