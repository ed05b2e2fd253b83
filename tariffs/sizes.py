"""How big a meter's TOU tables are: the one place that reads the sizes from a profile.

The sizes are about to move from constants in :mod:`kpm37.tou` into the profile data; every
caller asks :func:`tou_sizes` with the meter's profile, so that move is a change here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpm37 import tou
from kpm37.profile import Profile


@dataclass(frozen=True)
class TouSizes:
    """Most zone entries per set, day tables per set, and periods per day table."""

    zones: int
    day_tables: int
    periods: int


def tou_sizes(profile: Profile) -> TouSizes:
    """The TOU table sizes of meters with ``profile``."""
    del profile  # the sizes are not profile data yet (see the module docstring)
    return TouSizes(zones=tou.MAX_ZONES, day_tables=tou.MAX_DAY_TABLES, periods=tou.MAX_SLOTS)
