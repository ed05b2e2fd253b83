"""Template helpers for quantities: their human label, and a value with unit and resolution."""

from __future__ import annotations

from typing import Any

from django import template

from meters import names

register = template.Library()


@register.filter
def quantity_label(name: str) -> str:
    return names.label(name)


@register.simple_tag
def reading(name: str, value: Any) -> str:
    """``{% reading "voltage_a" 220.52664 %}`` -> ``220.5 V``."""
    return names.reading_text(name, value)
