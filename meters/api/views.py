"""Inventory API: CRUD on sites, tenants, labels, gateways and meters, scoped per user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import filters, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from meters import selectors, services
from meters.api.permissions import RolePermissions
from meters.api.serializers import (
    GatewaySerializer,
    LabelSerializer,
    MeterDetailSerializer,
    MeterSerializer,
    MeterWriteSerializer,
    SiteSerializer,
    TenantSerializer,
)
from meters.filtersets import (
    GatewayFilterSet,
    LabelFilterSet,
    MeterFilterSet,
    SiteFilterSet,
    TenantFilterSet,
)
from meters.models import Gateway, Meter


def as_api_error(exc: DjangoValidationError) -> ValidationError:
    """A model/service ValidationError as a 400 naming each field."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn a service's ValidationError raised inside the block into a 400 naming each field."""
    try:
        yield
    except DjangoValidationError as exc:
        raise as_api_error(exc) from exc


class InventoryViewSet(viewsets.ModelViewSet):
    permission_classes = [RolePermissions]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        services.inventory_save(instance=None, save=serializer.save)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        services.inventory_save(instance=serializer.instance, save=serializer.save)

    def perform_destroy(self, instance: Any) -> None:
        with api_errors():
            services.inventory_delete(instance=instance)


@extend_schema(tags=["inventory"])
class SiteViewSet(InventoryViewSet):
    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    search_fields = ["name", "address"]
    ordering_fields = ["name", "timezone"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.sites_visible_to(self.request.user)


@extend_schema(tags=["inventory"])
class TenantViewSet(InventoryViewSet):
    serializer_class = TenantSerializer
    filterset_class = TenantFilterSet
    search_fields = ["name", "account", "email"]
    ordering_fields = ["name", "account"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.tenants_visible_to(self.request.user)


@extend_schema(tags=["inventory"])
class LabelViewSet(InventoryViewSet):
    serializer_class = LabelSerializer
    filterset_class = LabelFilterSet
    search_fields = ["name"]
    ordering_fields = ["name"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.labels_visible_to(self.request.user)


@extend_schema(tags=["inventory"])
class GatewayViewSet(InventoryViewSet):
    serializer_class = GatewaySerializer
    filterset_class = GatewayFilterSet
    search_fields = ["name", "host", "device"]
    ordering_fields = ["name", "kind", "host", "meter_count"]

    def get_queryset(self) -> QuerySet[Gateway]:
        return selectors.gateway_list(user=self.request.user)

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        with api_errors():
            serializer.instance = services.gateway_create(fields=dict(serializer.validated_data))

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        with api_errors():
            serializer.instance = services.gateway_update(
                gateway=serializer.instance, fields=dict(serializer.validated_data))


@extend_schema(tags=["inventory"])
class MeterViewSet(InventoryViewSet):
    """Meters; writes take the CSV's fields and go through the same services as the import."""

    filterset_class = MeterFilterSet
    # Ordering comes from the FilterSet (shared with the fleet page), not DRF's OrderingFilter.
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["code", "tenant__name", "site__name", "gateway__name"]

    def get_queryset(self) -> QuerySet[Meter]:
        return selectors.meter_list(user=self.request.user)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action in ("create", "update", "partial_update"):
            return MeterWriteSerializer
        return MeterDetailSerializer if self.action == "retrieve" else MeterSerializer

    @extend_schema(request=MeterWriteSerializer, responses={201: MeterDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        writer = self._writer(request.data, partial=False)
        with api_errors():
            meter = services.meter_create(raw=writer.as_row(), user=request.user)
        return Response(self._detail(meter), status=status.HTTP_201_CREATED)

    @extend_schema(request=MeterWriteSerializer, responses=MeterDetailSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meter = self.get_object()
        writer = self._writer(request.data, partial=kwargs.get("partial", False))
        with api_errors():
            meter = services.meter_update(meter=meter, raw=writer.as_row(), user=request.user)
        return Response(self._detail(meter))

    def perform_destroy(self, instance: Meter) -> None:
        services.meter_delete(meter=instance)

    def _writer(self, data: Any, partial: bool) -> MeterWriteSerializer:
        writer = MeterWriteSerializer(data=data, partial=partial)
        writer.is_valid(raise_exception=True)
        return writer

    def _detail(self, meter: Meter) -> Any:
        meter = selectors.meter_list(user=self.request.user).get(pk=meter.pk)
        return MeterDetailSerializer(meter, context=self.get_serializer_context()).data
