"""Before/after pictures of a row as JSON: foreign keys and labels by name, never secrets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

# Never written into the trail, whatever model they are on.
SECRET_FIELDS = frozenset({"password", "secret", "token", "key"})


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """``instance``'s editable fields (or ``fields``), related rows by their names.

    Many-to-many fields are read from the database, so take the snapshot after they are set.
    """
    picture: dict[str, Any] = {}
    for field in instance._meta.get_fields():
        if not getattr(field, "concrete", False) or field.name in SECRET_FIELDS:
            continue
        if fields is None and (field.primary_key or not getattr(field, "editable", True)):
            continue
        if fields is not None and field.name not in fields:
            continue
        picture[field.name] = _field_value(instance, field)
    return picture


def _field_value(instance: models.Model, field: Any) -> Any:
    if field.many_to_many:
        if instance.pk is None:
            return []
        return sorted(str(row) for row in getattr(instance, field.name).all())
    if field.is_relation:
        related_id = getattr(instance, field.attname)
        return None if related_id is None else str(getattr(instance, field.name))
    return _plain(getattr(instance, field.attname))


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any],
                                                                   dict[str, Any]]:
    """Only what differs: (before, after) restricted to the keys whose values changed."""
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def plain(value: Any) -> Any:
    """Any value as JSON-safe data (decimals as strings, times in ISO 8601)."""
    return _plain(value)
