"""The audit record: one row per change, written once and never updated or deleted.

Three guards keep it append-only: the model and its queryset refuse updates and deletes, the
admin is read-only for everyone, and on PostgreSQL a trigger (migration 0002) refuses UPDATE and
DELETE from any client. The user and the meter are kept by id *and* by name, without database
foreign keys: deleting a user or a meter must neither cascade into the trail nor be blocked by
it, and the record still names who and what after they are gone.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from meters.audit.choices import Result, Via, kind_label


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit record."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AppendOnlyError("audit records are append-only: they are never changed or deleted")


class AuditQuerySet(models.QuerySet["AuditRecord"]):
    update = _refuse
    delete = _refuse
    bulk_update = _refuse
    _raw_delete = _refuse


class AuditRecord(models.Model):
    """Who did what, when, from where, to which object (and meter), before/after, result."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, db_index=True,
                                  help_text="Username at the time (kept if the user is deleted)")
    via = models.CharField(max_length=10, choices=Via.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    process = models.CharField(max_length=200, blank=True,
                               help_text="Command or task that acted, with OS user and pid")
    request_id = models.CharField(max_length=32, blank=True,
                                  help_text="Records written by one request share it")
    kind = models.CharField(max_length=61, db_index=True)
    area = models.CharField(max_length=30, db_index=True, editable=False)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    meter = models.ForeignKey("meters.Meter", null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    meter_code = models.CharField(max_length=13, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.OK)
    detail = models.TextField(blank=True, help_text="Why (the reason given) or what went wrong")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Only "view": nobody, superusers included, can be granted add, change or delete.
        default_permissions = ("view",)
        indexes = [models.Index(fields=["meter_code", "at"], name="audit_meter_at"),
                   models.Index(fields=["actor_name", "at"], name="audit_actor_at"),
                   models.Index(fields=["area", "at"], name="audit_area_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse()
        self.area = self.kind.split(".", 1)[0]
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def who(self) -> str:
        """The user, or for commands and tasks the process that acted."""
        return self.actor_name or self.process or "platform"

    @property
    def change_rows(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for the page; a side that was not recorded is None."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        return [(key, before.get(key), after.get(key)) for key in {**before, **after}]
