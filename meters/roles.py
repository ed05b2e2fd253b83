"""Roles are Django groups; this module names them and says which permissions each holds.

Permissions are given as ``app_label.codename`` patterns (``*`` allowed) so a role also covers
models that other apps add later: ``sync_roles()`` runs from a data migration, after every
``migrate`` (post_migrate) and from ``manage.py setup_roles``, and always reapplies the table.
Row scoping (a tenant viewer sees only its tenants' meters) lives in ``meters.selectors``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

ADMIN = "admin"
OPERATOR = "operator"
BILLING = "billing"
TENANT_VIEWER = "tenant-viewer"
ROLES = (ADMIN, OPERATOR, BILLING, TENANT_VIEWER)

# Roles that see every meter; a tenant viewer sees only meters of tenants it is a viewer of.
FLEET_WIDE_ROLES = (ADMIN, OPERATOR, BILLING)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ADMIN: ("*.*",),
    # Operators run the fleet: switch relays, apply rollouts, acknowledge alarms; they keep the
    # inventory up to date but do not delete it.
    OPERATOR: (
        "meters.view_*", "meters.add_meter", "meters.change_meter", "meters.add_gateway",
        "meters.change_gateway", "meters.add_label", "meters.change_label",
        "telemetry.*", "alarms.view_alarm", "alarms.change_alarm", "alarms.view_notification",
        "jobs.*", "provisioning.*", "tariffs.view_*", "audit.view_*", "relays.*",
    ),
    # Billing reads the inventory and owns billing and exports.
    BILLING: ("meters.view_*", "telemetry.view_*", "jobs.view_*", "tariffs.*", "audit.view_*"),
    # Tenant viewers read their tenants' meters and bills (rows scoped by selectors).
    TENANT_VIEWER: (
        "meters.view_meter", "meters.view_tenant", "meters.view_site", "meters.view_label",
        "telemetry.view_*", "alarms.view_alarm", "alarms.view_notification", "jobs.view_*",
        "tariffs.view_*",
    ),
}
# Alarm channels hold webhook URLs with their secret tokens and people's e-mail addresses: only
# admins (``*.*``) see or change them; the others see alarms and, scoped, their notifications.


def matches(patterns: tuple[str, ...], app_label: str, codename: str) -> bool:
    """Whether ``app_label.codename`` is granted by one of ``patterns``."""
    return any(fnmatchcase(f"{app_label}.{codename}", pattern) for pattern in patterns)


def sync_roles(*, group_model: Any = None, permission_model: Any = None) -> dict[str, int]:
    """Create the role groups and set each one's permissions; returns permissions per role.

    The models can be passed in so the data migration uses its historical models.
    """
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    permissions = list(permission_model.objects.select_related("content_type"))
    counts: dict[str, int] = {}
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        granted = [p for p in permissions
                   if matches(ROLE_PERMISSIONS[role], p.content_type.app_label, p.codename)]
        group.permissions.set(granted)
        counts[role] = len(granted)
    return counts


def has_role(user: Any, *roles: str) -> bool:
    """Whether ``user`` is active and in one of ``roles`` (superusers hold every role).

    Group names are cached on the user object so a page asking several times costs one query.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    names = getattr(user, "_role_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._role_names = names
    return any(role in names for role in roles)


def has_any_role(user: Any) -> bool:
    """Whether ``user`` may use the platform at all (outsiders have no role)."""
    return has_role(user, *ROLES)


def is_fleet_wide(user: Any) -> bool:
    """Whether ``user`` sees every meter, not only its tenants' meters."""
    return has_role(user, *FLEET_WIDE_ROLES)


def may_see_alarms(user: Any) -> bool:
    """Alarms (page, board counts, API) need ``alarms.view_alarm``: not the billing role."""
    return has_any_role(user) and bool(user.has_perm("alarms.view_alarm"))


def landing_page(user: Any) -> str:
    """Where ``user`` starts after logging in: the billing role on the energy page (until
    billing exists), everyone else on the fleet."""
    if has_role(user, BILLING) and not has_role(user, ADMIN, OPERATOR):
        return "/telemetry/energy/"
    return "/"
