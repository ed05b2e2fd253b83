"""Who may switch relays, and what a command must carry, checked before anything is queued."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from meters import roles
from meters.relays.choices import Action, Output

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
    A count typed for a smaller group must be right too: the asker expected other meters."""
    if count <= needed_above and (typed is None or str(typed).strip() == ""):
        return
    try:
        typed_int = int(str(typed).strip())
    except (TypeError, ValueError):
        typed_int = None
    if typed_int != count:
        raise ValidationError({"confirm_count": f"type the number of meters ({count}) to "
                                                "confirm a command to this many meters"})


def check_command(output: Any, action: Any) -> tuple[int, str]:
    """The output (1 or 2) and action (close, open, pulse), or a ValidationError naming each."""
    errors = {}
    if output not in Output.values or isinstance(output, bool):
        errors["output"] = f"must be 1 or 2, got {output!r}"
    if action not in Action.values:
        errors["action"] = f"must be one of {', '.join(Action.values)}, got {action!r}"
    if errors:
        raise ValidationError(errors)
    return int(output), str(action)
