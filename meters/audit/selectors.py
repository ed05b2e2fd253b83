"""Reading the audit trail, scoped by role.

- admins read every record;
- operators read records about meters and the fleet's operation (inventory, imports, alarms,
  relays, jobs, rollouts, tariffs) and any record naming a meter;
- billing clerks read what changes a bill: meter inventory (ratios, exchanges), sites and
  tenants, tariffs and billing;
- tenant viewers read none: the trail names staff, addresses and other tenants' meters.
User, role and permission changes and notification channels are for admins only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from meters import roles
from meters.audit.choices import BILLING_AREAS, OPERATOR_AREAS
from meters.audit.models import AuditRecord


def audit_scope(user: Any) -> Q | None:
    """The records ``user`` may read as a filter; None: none at all."""
    if roles.has_role(user, roles.ADMIN):
        return Q()
    parts = []
    if roles.has_role(user, roles.OPERATOR):
        parts += [Q(area__in=OPERATOR_AREAS), ~Q(meter_code="")]
    if roles.has_role(user, roles.BILLING):
        parts.append(Q(area__in=BILLING_AREAS))
    if not parts:
        return None
    scope = parts[0]
    for part in parts[1:]:
        scope |= part
    return scope


def audit_list(*, user: Any) -> QuerySet[AuditRecord]:
    """Records ``user`` may read, newest first."""
    scope = audit_scope(user)
    if scope is None:
        return AuditRecord.objects.none()
    return AuditRecord.objects.filter(scope).order_by("-at", "-id")


def may_read_audit(user: Any) -> bool:
    return audit_scope(user) is not None
