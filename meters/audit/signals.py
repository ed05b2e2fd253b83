"""User and permission changes, caught from Django's auth models wherever they are made.

These models are Django's, not ours, so no service of ours sees every change to them: the admin,
``createsuperuser``, ``setup_roles`` and the shell all write them directly. Signals catch each
save, delete and many-to-many change (a user's roles and permissions, a role's permissions, the
tenants a viewer sees) and record it with before and after. The admin's own log is recorded too,
for any other model changed there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from meters.audit.services import audit_record
from meters.audit.snapshot import changes, snapshot

USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "is_staff",
               "is_superuser"]
AUTH_MODELS = ("auth.user", "auth.group")
ADMIN_KINDS = {ADDITION: "admin.add", DELETION: "admin.delete"}


def _user_picture(user: Any) -> dict[str, Any]:
    return snapshot(user, USER_FIELDS)


def _user_pre_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    old = sender.objects.filter(pk=instance.pk).first()
    if old is not None:
        instance._audit_before = (_user_picture(old), old.password)


def _user_post_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        audit_record(kind="user.create", obj=instance, after=_user_picture(instance))
        return
    stashed = instance.__dict__.pop("_audit_before", None)
    if stashed is None:
        return
    old_picture, old_password = stashed
    before, after = changes(old_picture, _user_picture(instance))
    if before or after:
        audit_record(kind="user.update", obj=instance, before=before, after=after)
    if old_password != instance.password:
        audit_record(kind="user.password", obj=instance, detail="the password was changed")


def _user_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._audit_before = {**_user_picture(instance),
                              "groups": sorted(instance.groups.values_list("name", flat=True))}


def _user_post_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    audit_record(kind="user.delete", obj=instance,
                 before=instance.__dict__.pop("_audit_before", None))


def _group_pre_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is not None:
        instance._audit_before = Group.objects.filter(pk=instance.pk).values_list(
            "name", flat=True).first()


def _group_post_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    old_name = instance.__dict__.pop("_audit_before", None)
    if created:
        audit_record(kind="group.create", obj=instance, after={"name": instance.name})
    elif old_name is not None and old_name != instance.name:
        audit_record(kind="group.update", obj=instance, before={"name": old_name},
                     after={"name": instance.name})


def _group_post_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    audit_record(kind="group.delete", obj=instance, before={"name": instance.name})


def _admin_logged(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Anything changed in the admin (auth models are recorded with before/after above)."""
    content_type = instance.content_type
    label = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    if not created or label in AUTH_MODELS or label == "audit.auditrecord":
        return
    meter = None
    if label == "meters.meter" and instance.action_flag != DELETION:
        from meters.models import Meter

        meter = Meter.objects.filter(pk=instance.object_id).first()
    audit_record(kind=ADMIN_KINDS.get(instance.action_flag, "admin.change"), actor=instance.user,
                 meter=meter, object_type=label, object_id=instance.object_id or "",
                 object_repr=instance.object_repr, detail=instance.get_change_message())


def connect() -> None:
    from meters.audit import m2m

    user = get_user_model()
    for signal, handler, model in (
            (pre_save, _user_pre_save, user), (post_save, _user_post_save, user),
            (pre_delete, _user_pre_delete, user), (post_delete, _user_post_delete, user),
            (pre_save, _group_pre_save, Group), (post_save, _group_post_save, Group),
            (post_delete, _group_post_delete, Group), (post_save, _admin_logged, LogEntry)):
        signal.connect(handler, sender=model, weak=False,
                       dispatch_uid=f"audit.{handler.__name__}")
    for through in m2m.watched():
        m2m_changed.connect(m2m.changed, sender=through, weak=False,
                            dispatch_uid=f"audit.m2m.{through._meta.label}")
