"""``{% when value where %}``: a stored UTC time as the reader reads it, zone named.

``where`` is the meter, site or gateway the time belongs to (its site's zone is used unless the
reader chose their own zone or UTC). Every page uses this tag, so the format is one.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from meters.local_time import as_datetime, format_local, reader_of

register = template.Library()


@register.simple_tag(takes_context=True)
def when(context: dict[str, Any], value: Any, where: Any = None, empty: str = "never") -> str:
    """A <time> element with the local time and its zone; ``empty`` when there is no time."""
    moment = as_datetime(value)
    if moment is None:
        return format_html('<span class="muted">{}</span>', empty)
    zone = reader_of(context.get("request")).zone_for(where)
    key = getattr(zone, "key", "UTC")
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(),
                       key, format_local(moment, zone))


@register.simple_tag(takes_context=True)
def zone_name(context: dict[str, Any], where: Any = None) -> str:
    """The IANA name of the zone times about ``where`` are shown in (for captions)."""
    zone = reader_of(context.get("request")).zone_for(where)
    return getattr(zone, "key", "UTC")
