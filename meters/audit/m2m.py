"""Many-to-many changes that grant access: a user's roles and permissions, a role's
permissions, and the tenants a viewer sees. Each is recorded per owner (the user or the role)
with the names before and after, whichever side of the relation the change was made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from meters.audit.services import audit_record


@dataclass(frozen=True)
class Watched:
    owner: type
    attribute: str  # the relation on the owner
    kind: str

    def names(self, owner: Any) -> list[str]:
        return sorted(_name(row) for row in getattr(owner, self.attribute).all())


def _name(row: Any) -> str:
    if row._meta.label == "auth.Permission":
        return f"{row.content_type.app_label}.{row.codename}"
    return str(row)


def _relations() -> dict[Any, Watched]:
    from meters.models import Tenant

    user = get_user_model()
    return {
        user.groups.through: Watched(user, "groups", "user.groups"),
        user.user_permissions.through: Watched(user, "user_permissions", "user.permissions"),
        Group.permissions.through: Watched(Group, "permissions", "group.permissions"),
        Tenant.viewers.through: Watched(user, "viewable_tenants", "user.tenants"),
    }


def watched() -> list[Any]:
    return list(_relations())


def _owners(watch: Watched, instance: Any, pk_set: Any) -> list[Any]:
    if isinstance(instance, watch.owner):
        return [instance]
    if pk_set is not None:  # changed from the other side: pk_set holds owners
        return list(watch.owner.objects.filter(pk__in=pk_set))
    # A clear from the other side: every owner linked to ``instance`` loses it.
    return list(watch.owner.objects.filter(**{watch.attribute: instance}))


def changed(sender: Any, instance: Any, action: str, pk_set: Any, model: Any,
            **kwargs: Any) -> None:
    watch = _relations()[sender]
    if action.startswith("pre_"):
        owners = _owners(watch, instance, pk_set)
        instance._audit_m2m = [(owner, watch.names(owner)) for owner in owners]
        return
    for owner, before in instance.__dict__.pop("_audit_m2m", []):
        after = watch.names(owner)
        if before != after:
            added = sorted(set(after) - set(before))
            removed = sorted(set(before) - set(after))
            audit_record(kind=watch.kind, obj=owner, before={watch.attribute: before},
                         after={watch.attribute: after},
                         detail="; ".join(part for part in (
                             f"added {', '.join(added)}" if added else "",
                             f"removed {', '.join(removed)}" if removed else "") if part))
