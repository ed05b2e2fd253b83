"""API permissions: a role is needed at all, then the model permission for the method."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission, DjangoModelPermissions

from meters.roles import ADMIN, has_any_role, has_role


class RolePermissions(DjangoModelPermissions):
    """Outsiders (no role) get 403; reads need ``view_``, writes ``add_``/``change_``/``delete_``.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_any_role(request.user) and super().has_permission(request, view)


class AdminOnly(BasePermission):
    """Only the admin role (e.g. alarm channels, which hold secrets and addresses)."""

    message = "only admins may use this"

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, ADMIN)


class HasAnyRole(BasePermission):
    """Any role at all (the OpenAPI schema and docs)."""

    message = "your account holds no role"

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_any_role(request.user)
