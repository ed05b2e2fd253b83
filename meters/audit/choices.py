"""What an audit record can say: where an action came from, how it ended, and its kind.

A kind is ``area.action`` (``meter.update``, ``relay.command``). The area decides who may read
a record (see ``selectors``); labels for the page live here, and other apps add their own kinds
with ``register_kinds`` (tariffs, provisioning) instead of this module importing them.
"""

from __future__ import annotations

import re

from django.db import models

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,29}\.[a-z][a-z0-9_]{0,29}$")


class Via(models.TextChoices):
    PAGE = "page", "Web page"
    API = "api", "API"
    ADMIN = "admin", "Django admin"
    COMMAND = "command", "Command line"
    TASK = "task", "Background task"
    SYSTEM = "system", "Platform"


class Result(models.TextChoices):
    OK = "ok", "Done"
    ACCEPTED = "accepted", "Accepted (outcome recorded later)"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (not carried out in time)"
    CANCELLED = "cancelled", "Cancelled"


KINDS: dict[str, str] = {
    "user.create": "User created", "user.update": "User changed",
    "user.password": "Password changed", "user.delete": "User deleted",
    "user.groups": "User's roles changed", "user.permissions": "User's permissions changed",
    "user.tenants": "Tenants a viewer sees changed",
    "group.create": "Role group created", "group.update": "Role group renamed",
    "group.delete": "Role group deleted", "group.permissions": "Role permissions changed",
    "meter.create": "Meter created", "meter.update": "Meter changed",
    "meter.delete": "Meter deleted", "meter.adopt": "Unregistered meter adopted",
    "gateway.create": "Gateway created", "gateway.update": "Gateway changed",
    "gateway.delete": "Gateway deleted",
    "site.create": "Site created", "site.update": "Site changed", "site.delete": "Site deleted",
    "tenant.create": "Tenant created", "tenant.update": "Tenant changed",
    "tenant.delete": "Tenant deleted",
    "label.create": "Label created", "label.update": "Label changed",
    "label.delete": "Label deleted",
    "import.apply": "CSV import",
    "alarm.acknowledge": "Alarm acknowledged", "alarm.clear": "Alarm cleared by hand",
    "channel.create": "Notification channel created",
    "channel.update": "Notification channel changed",
    "channel.delete": "Notification channel deleted",
    "admin.add": "Added in the admin", "admin.change": "Changed in the admin",
    "admin.delete": "Deleted in the admin",
}

# Who reads which areas; a record about a meter is also an operator's (see selectors).
OPERATOR_AREAS = frozenset({"meter", "gateway", "site", "tenant", "label", "import", "alarm",
                            "relay", "job", "rollout", "template", "tariff"})
# Billing clerks: what changes a bill (a meter's ratios or exchange, tenants, tariffs, billing).
BILLING_AREAS = frozenset({"meter", "site", "tenant", "tariff", "billing"})


def register_kinds(kinds: dict[str, str]) -> None:
    """Add kinds (``area.action`` -> label) of another app, e.g. from its AppConfig.ready."""
    for kind in kinds:
        if not KIND_PATTERN.match(kind):
            raise ValueError(f"audit kind {kind!r} is not of the form area.action")
    KINDS.update(kinds)


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind)


def kind_choices() -> list[tuple[str, str]]:
    return sorted(KINDS.items(), key=lambda item: item[1])
