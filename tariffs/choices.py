"""Names and colours of the five TOU rates; templates read them from here, never branch on 1-5."""

from __future__ import annotations

from django.db import models

from kpm37.quantities import Rate


class RateChoice(models.IntegerChoices):
    SHARP = Rate.SHARP, "Sharp"
    PEAK = Rate.PEAK, "Peak"
    FLAT = Rate.FLAT, "Flat"
    VALLEY = Rate.VALLEY, "Valley"
    DEEP_VALLEY = Rate.DEEP_VALLEY, "Deep valley"

    @property
    def colour(self) -> str:
        return RATE_COLOURS[int(self.value)]


# Warm for expensive, cool for cheap; readable with white text.
RATE_COLOURS = {1: "#b91c1c", 2: "#ea580c", 3: "#ca8a04", 4: "#15803d", 5: "#1d4ed8"}
