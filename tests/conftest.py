"""Shared test fixtures: one persona per role (plus an outsider) and a client for each.

Personas, as in Healthchecks' tests: ``admin``, ``operator``, ``billing_clerk``,
``tenant_viewer`` (a viewer of ``tenant``) and ``outsider`` (logged in, no role). Log one in
with ``client.force_login(operator)``, or use ``client_as(user)`` / ``api_client_as(user)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from meters import roles
from tests.factories import TenantFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with empty rate-limit and lockout counters (the cache is per process)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _persona(username: str, *role_names: str, **fields: Any) -> Any:
    roles.sync_roles()  # idempotent; groups may be gone after a transactional test's flush
    from django.contrib.auth.models import Group

    user = UserFactory(username=username, **fields)
    user.groups.set(Group.objects.filter(name__in=role_names))
    return user


@pytest.fixture
def admin(db: None) -> Any:
    """A platform administrator: every permission, and access to the Django admin."""
    return _persona("admin", roles.ADMIN, is_staff=True)


@pytest.fixture
def operator(db: None) -> Any:
    """Switches relays, applies rollouts, acknowledges alarms; edits but never deletes inventory."""
    return _persona("operator", roles.OPERATOR)


@pytest.fixture
def billing_clerk(db: None) -> Any:
    """Billing and exports only; reads the inventory."""
    return _persona("billing", roles.BILLING)


@pytest.fixture
def tenant(db: None) -> Any:
    """The tenant that ``tenant_viewer`` may see."""
    return TenantFactory(name="Viewed Tenant")


@pytest.fixture
def tenant_viewer(tenant: Any) -> Any:
    """Sees only the meters and bills of ``tenant``."""
    user = _persona("viewer", roles.TENANT_VIEWER)
    tenant.viewers.add(user)
    return user


@pytest.fixture
def outsider(db: None) -> Any:
    """Logged in but holds no role: every page and API answers 403."""
    return _persona("outsider")


@pytest.fixture
def client_as() -> Callable[[Any], Client]:
    """A Django test client logged in as the given user."""
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client
    return make


@pytest.fixture
def api_client_as() -> Callable[[Any], APIClient]:
    """A DRF test client authenticated as the given user."""
    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client
    return make
