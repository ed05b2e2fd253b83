"""Roles: the groups exist with the right permissions and personas hold them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from meters import roles


@pytest.mark.django_db
def test_setup_roles_creates_every_group_idempotently(capsys: pytest.CaptureFixture[str]) -> None:
    from django.contrib.auth.models import Group

    call_command("setup_roles")
    call_command("setup_roles")
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    assert "tenant-viewer:" in capsys.readouterr().out


def test_personas_hold_their_permissions(admin: Any, operator: Any, billing_clerk: Any,
                                         tenant_viewer: Any, outsider: Any) -> None:
    assert admin.has_perm("meters.delete_meter")
    assert operator.has_perm("meters.change_meter")
    assert not operator.has_perm("meters.delete_meter")
    assert billing_clerk.has_perm("meters.view_meter")
    assert not billing_clerk.has_perm("meters.change_meter")
    assert tenant_viewer.has_perm("meters.view_meter")
    assert not tenant_viewer.has_perm("meters.view_gateway")
    assert not outsider.has_perm("meters.view_meter")


def test_role_helpers(operator: Any, tenant_viewer: Any, outsider: Any) -> None:
    assert roles.is_fleet_wide(operator)
    assert not roles.is_fleet_wide(tenant_viewer)
    assert roles.has_any_role(tenant_viewer)
    assert not roles.has_any_role(outsider)


def test_login_page_renders_and_logs_in(client: Any, operator: Any) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert b"vendor/htmx/htmx.min.js" in page.content
    answer = client.post("/accounts/login/", {"username": "operator", "password": "password"})
    assert answer.status_code == 302
