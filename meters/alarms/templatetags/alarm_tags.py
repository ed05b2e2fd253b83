"""Template helpers for alarms: severity and state chips coloured from their choices."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from meters.alarms.choices import AlarmState, Severity

register = template.Library()


@register.simple_tag
def severity_badge(value: str) -> str:
    """A chip for an alarm severity; label and colour come from ``Severity``."""
    severity = Severity(value)
    return format_html('<span class="badge badge-{}">{}</span>', severity.colour, severity.label)


@register.simple_tag
def alarm_state_badge(value: str) -> str:
    """A chip for an alarm state; label and colour come from ``AlarmState``."""
    state = AlarmState(value)
    return format_html('<span class="badge badge-{}">{}</span>', state.colour, state.label)
