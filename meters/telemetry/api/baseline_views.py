"""API twin of the meter page's "accept reset / exchange" (a meter's counter baselines), and
the quantity vocabulary with the labels, units and rate names the pages use."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kpm37.quantities import QUANTITIES
from meters import names
from meters.api.permissions import RolePermissions
from meters.api.views import api_errors
from meters.models import Meter
from meters.roles import has_any_role
from meters.selectors import meters_visible_to
from meters.telemetry.baselines import counter_baseline_accept
from meters.telemetry.models import CounterBaseline


class CounterBaselineSerializer(serializers.ModelSerializer):
    """An accepted reset or exchange: from when, who, why, counters before and after."""

    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CounterBaseline
        fields = ["id", "starts_at", "accepted_by", "accepted_at", "reason", "old_values",
                  "new_values", "readings_restored"]
        read_only_fields = fields


class BaselineAcceptSerializer(serializers.Serializer):
    """Body of an acceptance: why the counters restart (reset, meter exchange, ...)."""

    reason = serializers.CharField(max_length=2000)


@extend_schema(tags=["telemetry"], parameters=[
    OpenApiParameter("meter_pk", int, OpenApiParameter.PATH, description="meter id")])
class CounterBaselineListView(generics.ListCreateAPIView):
    """GET: a meter's accepted baselines, newest first. POST ``{"reason": ...}``: accept the
    refused readings' lower counters as a new baseline and store those readings (400 when the
    meter has none refused)."""

    serializer_class = CounterBaselineSerializer
    permission_classes = [RolePermissions]
    queryset = CounterBaseline.objects.none()  # for the schema and the permission class

    def _meter(self) -> Meter:
        return get_object_or_404(meters_visible_to(self.request.user),
                                 pk=self.kwargs["meter_pk"])

    def get_queryset(self) -> QuerySet[CounterBaseline]:
        return CounterBaseline.objects.filter(meter=self._meter()).select_related("accepted_by")

    @extend_schema(request=BaselineAcceptSerializer, responses={201: CounterBaselineSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = BaselineAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with api_errors():
            baseline = counter_baseline_accept(meter=self._meter(), user=request.user,
                                               reason=body.validated_data["reason"])
        return Response(CounterBaselineSerializer(baseline).data,
                        status=status.HTTP_201_CREATED)


class AnyRole(BasePermission):
    """Any role may read the vocabulary; a user without one gets 403 like everywhere else."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_any_role(request.user)


class QuantitySerializer(serializers.Serializer):
    """One quantity of the platform's vocabulary, as pages show it."""

    name = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.CharField()
    rate = serializers.CharField(allow_null=True,
                                 help_text="sharp, peak, flat, valley or deep valley")
    decimals = serializers.IntegerField(help_text="resolution: decimal places shown")


class QuantityListView(APIView):
    """Every quantity name readings use, with its label, unit, rate and resolution."""

    permission_classes = [AnyRole]

    @extend_schema(tags=["telemetry"], responses=QuantitySerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [{"name": q.name, "label": q.label, "unit": q.unit, "kind": q.kind,
                 "rate": names.rate_of(q.name), "decimals": names.decimals(q.name)}
                for q in QUANTITIES.values()]
        return Response(QuantitySerializer(rows, many=True).data)
