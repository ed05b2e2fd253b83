"""Relay badges: a command's state in relay words, and what was read back."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from meters.relays.choices import FROM_JOB_STATE

register = template.Library()
COLOURS = {"queued": "grey", "sent": "yellow", "confirmed": "green", "failed": "amber",
           "expired": "amber", "cancelled": "grey"}


@register.simple_tag
def command_state_badge(job: Any) -> str:
    state = FROM_JOB_STATE[job.state]
    return format_html('<span class="badge badge-{}" data-state="{}">{}</span>',
                       COLOURS[state.value], state.value, state.label)


@register.simple_tag
def relay_read_back(job: Any) -> str:
    values = job.result.get("values", {}) if isinstance(job.result, dict) else {}
    state = values.get(f"do{job.payload.get('output')}")
    if state is None:
        return ""
    return format_html("read back {}", "closed" if state else "open")
