"""How big a meter's TOU tables are: the one place tariffs reads the sizes from a profile."""

from __future__ import annotations

from kpm37.profile import Profile, TouSizes
from kpm37.tou import table_sizes


def tou_sizes(profile: Profile) -> TouSizes:
    """The TOU table sizes of meters with ``profile`` (zones, day tables, periods a day);
    ProfileError if the profile has no TOU tables."""
    return table_sizes(profile)
