"""Telemetry API: a meter's readings, dead letters, unregistered meters and their adoption."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from meters.api.permissions import RolePermissions
from meters.roles import is_fleet_wide
from meters.selectors import meters_visible_to
from meters.telemetry import selectors, services
from meters.telemetry.api.serializers import (
    AdoptSerializer,
    DeadLetterSerializer,
    ReadingSerializer,
    UnregisteredMeterSerializer,
)
from meters.telemetry.filtersets import (
    DeadLetterFilterSet,
    ReadingFilterSet,
    UnregisteredFilterSet,
)
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter


class FleetWideOnly(BasePermission):
    """Dead letters and unknown codes span the whole fleet: not for tenant viewers."""

    message = "only fleet-wide roles (admin, operator, billing) see this"

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_fleet_wide(request.user)


@extend_schema(tags=["telemetry"], parameters=[
    OpenApiParameter("meter_pk", int, OpenApiParameter.PATH, description="meter id")])
class ReadingListView(generics.ListAPIView):
    """A meter's history, newest first: ``?quantity=voltage_a&since=&until=&source=``."""

    serializer_class = ReadingSerializer
    permission_classes = [RolePermissions]
    filterset_class = ReadingFilterSet
    filter_backends = [DjangoFilterBackend]
    queryset = Reading.objects.none()  # for the schema and the permission class

    def get_queryset(self) -> QuerySet[Reading]:
        meter = get_object_or_404(meters_visible_to(self.request.user),
                                  pk=self.kwargs["meter_pk"])
        return selectors.reading_list(meter=meter)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["quantities"] = set(self.request.query_params.getlist("quantity"))
        return context


@extend_schema(tags=["telemetry"])
class DeadLetterViewSet(viewsets.ReadOnlyModelViewSet):
    """Messages ingest could not take as readings, with raw bytes and reason."""

    serializer_class = DeadLetterSerializer
    permission_classes = [RolePermissions, FleetWideOnly]
    filterset_class = DeadLetterFilterSet
    filter_backends = [DjangoFilterBackend]
    queryset = DeadLetter.objects.none()

    def get_queryset(self) -> QuerySet[DeadLetter]:
        return selectors.dead_letter_list()


@extend_schema(tags=["telemetry"])
class UnregisteredMeterViewSet(viewsets.ReadOnlyModelViewSet):
    """Codes that publish data but are not in the inventory; ``adopt`` creates the meter."""

    serializer_class = UnregisteredMeterSerializer
    permission_classes = [RolePermissions, FleetWideOnly]
    filterset_class = UnregisteredFilterSet
    filter_backends = [DjangoFilterBackend]
    queryset = UnregisteredMeter.objects.none()

    def get_queryset(self) -> QuerySet[UnregisteredMeter]:
        return selectors.unregistered_list(include_adopted=True)

    @extend_schema(request=AdoptSerializer, responses={201: UnregisteredMeterSerializer})
    @action(detail=True, methods=["post"])
    def adopt(self, request: Request, pk: Any = None) -> Response:
        """Create the MQTT meter for this code (needs permission to add meters)."""
        if not request.user.has_perm("meters.add_meter"):
            raise PermissionDenied("adopting a meter needs permission to add meters")
        body = AdoptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = self.get_object()
        services.unregistered_adopt(unregistered=row, **body.validated_data)
        row.refresh_from_db()
        return Response(UnregisteredMeterSerializer(row).data, status=status.HTTP_201_CREATED)
