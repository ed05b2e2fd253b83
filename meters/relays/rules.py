"""Who may switch relays, and what a command must carry, checked before anything is queued."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from meters import roles

REASON_MIN = 5
REASON_MAX = 500


def may_command_relays(user: Any) -> bool:
    """Operators and admins; never billing clerks, tenant viewers or outsiders."""
    return roles.has_role(user, roles.ADMIN, roles.OPERATOR)


def require_commander(user: Any) -> None:
    if not may_command_relays(user):
        raise PermissionDenied("only operators and admins may switch relays")


def clean_reason(reason: Any) -> str:
    """The reason, trimmed; a relay cuts or restores someone's supply, so it is required."""
    text = str(reason or "").replace("\x00", "").strip()
    if len(text) < REASON_MIN:
        raise ValidationError({"reason": f"say why (at least {REASON_MIN} characters): a relay "
                                         "switches a tenant's supply"})
    if len(text) > REASON_MAX:
        raise ValidationError({"reason": f"at most {REASON_MAX} characters"})
    return text


def check_typed_count(*, count: int, typed: Any, needed_above: int) -> None:
    """Above ``needed_above`` meters the operator types the count back, to catch a wrong group.
    """
    if count <= needed_above:
        return
    try:
        typed_int = int(str(typed).strip())
    except (TypeError, ValueError):
        typed_int = None
    if typed_int != count:
        raise ValidationError({"confirm_count": f"type the number of meters ({count}) to "
                                                "confirm a command to this many meters"})
