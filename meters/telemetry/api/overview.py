"""API twins of the board and the energy page: the same counts and rows, scoped the same way."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meters.api.permissions import RolePermissions
from meters.models import Meter
from meters.telemetry import selectors

_COUNTS = serializers.DictField(child=serializers.IntegerField())
BOARD_SCHEMA = inline_serializer("Board", {
    "status": _COUNTS,
    "severity": serializers.DictField(child=serializers.IntegerField(), required=False,
                                      help_text="open alarms; absent for the billing role"),
    "gateways": serializers.ListField(child=serializers.DictField()),
    "dead_letters": serializers.IntegerField(required=False,
                                             help_text="absent for tenant viewers"),
    "unregistered": serializers.IntegerField(required=False,
                                             help_text="absent for tenant viewers"),
})


@extend_schema(tags=["telemetry"], responses=BOARD_SCHEMA)
class BoardView(APIView):
    """The live board's counts: meters by status, open alarms by severity, per gateway."""

    permission_classes = [RolePermissions]
    queryset = Meter.objects.none()  # for the permission class

    def get(self, request: Request) -> Response:
        return Response(selectors.fleet_board(user=request.user))


class EnergySerializer(serializers.Serializer):
    """A meter with its latest import and export energy ({"value", "time"} or null)."""

    code = serializers.CharField(source="meter.code")
    tenant = serializers.CharField(source="meter.tenant.name", default=None)
    site = serializers.CharField(source="meter.site.name", default=None)
    import_active_energy = serializers.DictField(allow_null=True)
    export_active_energy = serializers.DictField(allow_null=True)


@extend_schema(tags=["telemetry"])
class EnergyListView(generics.ListAPIView):
    """Every visible meter's latest total energies, by tenant then code (the energy page)."""

    serializer_class = EnergySerializer
    permission_classes = [RolePermissions]
    queryset = Meter.objects.none()  # for the schema and the permission class

    def get_queryset(self) -> QuerySet[Meter]:
        return selectors.energy_list(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.energy_of(list(page or []))
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
