"""Template helpers of the audit trail."""

from __future__ import annotations

from typing import Any

from django import template

from meters.audit.selectors import may_read_audit

register = template.Library()


@register.filter
def reads_audit(user: Any) -> bool:
    """Whether ``user`` may open the audit page (role names are cached: no extra query)."""
    return may_read_audit(user)
