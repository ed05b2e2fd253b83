"""User and permission changes are recorded wherever they are made: code, admin, either side of
a many-to-many relation; the password hash never enters the trail; a login is not a change."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from meters import roles
from meters.audit.models import AuditRecord
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def last(kind: str, **match: Any) -> AuditRecord:
    return AuditRecord.objects.filter(kind=kind, **match).latest("id")


def test_user_created_changed_password_and_deleted() -> None:
    user = get_user_model().objects.create_user("kim", "kim@example.com", "pw-1-long-enough")
    created = last("user.create", object_id=str(user.pk))
    assert created.after["username"] == "kim" and "password" not in created.after
    user.is_staff = True
    user.email = "kim@utility.example"
    user.save()
    changed = last("user.update", object_id=str(user.pk))
    assert changed.before == {"is_staff": False, "email": "kim@example.com"}
    assert changed.after == {"is_staff": True, "email": "kim@utility.example"}
    user.set_password("another-long-password")
    user.save()
    assert last("user.password", object_id=str(user.pk)).before is None
    user.groups.add(Group.objects.create(name="night-shift"))
    pk = user.pk
    user.delete()
    gone = last("user.delete", object_id=str(pk))
    assert gone.before["username"] == "kim" and gone.before["groups"] == ["night-shift"]
    hashes = [u.password for u in get_user_model().objects.all()] + [user.password]
    trail = str(list(AuditRecord.objects.values()))
    assert not [h for h in hashes if h and h in trail]


def test_roles_from_either_side_and_clear(operator: Any) -> None:
    roles.sync_roles()
    user = UserFactory(username="sam")
    billing = Group.objects.get(name=roles.BILLING)
    user.groups.add(billing)
    added = last("user.groups", object_id=str(user.pk))
    assert (added.before, added.after) == ({"groups": []}, {"groups": ["billing"]})
    assert added.detail == "added billing"
    Group.objects.get(name=roles.ADMIN).user_set.add(user)  # from the group's side
    assert last("user.groups", object_id=str(user.pk)).after == {"groups": ["admin", "billing"]}
    billing.user_set.clear()  # clears sam's billing role too
    cleared = last("user.groups", object_id=str(user.pk))
    assert (cleared.before, cleared.after) == ({"groups": ["admin", "billing"]},
                                               {"groups": ["admin"]})


def test_permissions_of_users_and_roles(db: None) -> None:
    user = UserFactory(username="pat")
    perm = Permission.objects.get(codename="view_meter")
    user.user_permissions.add(perm)
    assert last("user.permissions").after == {"user_permissions": ["meters.view_meter"]}
    group = Group.objects.create(name="auditors")
    assert last("group.create").after == {"name": "auditors"}
    group.permissions.set([perm])
    assert last("group.permissions").after == {"permissions": ["meters.view_meter"]}
    group.name = "inspectors"
    group.save()
    assert (last("group.update").before, last("group.update").after) == (
        {"name": "auditors"}, {"name": "inspectors"})
    group.delete()
    assert last("group.delete").before == {"name": "inspectors"}


def test_a_viewers_tenants_are_recorded(tenant_viewer: Any) -> None:
    other = TenantFactory(name="Second Tenant")
    other.viewers.add(tenant_viewer)  # from the tenant's side
    record = last("user.tenants", object_id=str(tenant_viewer.pk))
    assert (record.before, record.after) == (
        {"viewable_tenants": ["Viewed Tenant"]},
        {"viewable_tenants": ["Second Tenant", "Viewed Tenant"]})


def test_reapplying_the_same_roles_and_logging_in_record_nothing(operator: Any) -> None:
    before = AuditRecord.objects.count()
    roles.sync_roles()
    operator.set_password("pw-for-login-test")
    operator.save()
    before = AuditRecord.objects.count()
    client = Client()
    assert client.login(username="operator", password="pw-for-login-test")
    roles.sync_roles()
    assert AuditRecord.objects.count() == before


def test_change_in_the_django_admin_is_recorded_with_its_source(admin: Any) -> None:
    admin.is_superuser = True
    admin.save()
    target = UserFactory(username="lee", email="lee@example.com")
    client = Client(REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="AdminBrowser/1")
    client.force_login(admin)
    page = client.post(f"/admin/auth/user/{target.pk}/change/", {
        "username": "lee", "email": "lee@example.com", "is_active": "on", "is_staff": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"})
    assert page.status_code == 302, page.content.decode()[:2000]
    record = last("user.update", object_id=str(target.pk))
    assert (record.actor_name, record.via, record.ip, record.user_agent) == (
        "admin", "admin", "198.51.100.4", "AdminBrowser/1")
    assert record.after == {"is_staff": True}


def test_other_models_changed_in_the_admin_are_recorded(admin: Any) -> None:
    from tests.factories import SiteFactory

    admin.is_superuser = True
    admin.save()
    site = SiteFactory(name="Linz")
    client = Client()
    client.force_login(admin)
    answer = client.post(f"/admin/meters/site/{site.pk}/change/",
                         {"name": "Linz", "timezone": "Europe/Vienna", "address": "Hauptplatz 1"})
    assert answer.status_code == 302
    record = last("admin.change")
    assert (record.object_type, record.object_repr, record.actor_name) == (
        "meters.site", "Linz", "admin")
    assert "Address" in record.detail
