"""Every model of our apps is in the admin, and its list page renders for an admin."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.test import Client
from django.urls import reverse

OUR_APPS = ("meters", "telemetry", "alarms", "audit", "jobs", "relays", "tariffs", "provisioning")


def our_models() -> list[type]:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_model_of_our_apps_is_registered() -> None:
    missing = [m._meta.label for m in our_models() if not django_admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.django_db
def test_every_admin_changelist_renders(admin: object, client_as: object) -> None:
    client: Client = client_as(admin)  # type: ignore[operator]
    for model in our_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
