"""Device profiles: the meter's register map and MQTT schema, as data.

A profile is one YAML file under ``kpm37/profiles/``. The loader expands its compact constructs
(``run`` for consecutive registers, ``repeat`` for tables such as TOU entries and history), then
checks the whole map so a broken file fails loudly with the register name and the reason,
never later on the wire. Codec, planner and simulator read only :class:`Profile`.

This module is the public import location; the work is split between
:mod:`kpm37.profile_model` (Register, ReadBlock, Profile), :mod:`kpm37.profile_loader` (finding,
expanding and building) and :mod:`kpm37.profile_checks` (per-field and whole-map checks).
"""

from __future__ import annotations

from kpm37.profile_checks import CANONICAL_GROUPS, MQTT_TOPICS
from kpm37.profile_loader import PROFILE_DIR, load_profile, profile_names
from kpm37.profile_model import (
    ACCESS,
    TABLES,
    TYPE_WORDS,
    PasswordRule,
    Profile,
    ReadBlock,
    Register,
    TouSizes,
)

__all__ = [
    "ACCESS", "CANONICAL_GROUPS", "MQTT_TOPICS", "PROFILE_DIR", "TABLES", "TYPE_WORDS",
    "PasswordRule", "Profile", "ReadBlock", "Register", "TouSizes", "load_profile",
    "profile_names",
]
