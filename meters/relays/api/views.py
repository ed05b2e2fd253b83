"""Relay API: ``/api/meters/{id}/relay/`` (outputs and commands; POST a command) and
``/api/relay-groups/`` (group commands, approve, reject)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meters.relays import commands, group_services, selectors
from meters.relays.api.serializers import (
    DecisionSerializer,
    GroupRequestSerializer,
    MeterRelaysSerializer,
    RelayCommandSerializer,
    RelayGroupSerializer,
    RelayRequestSerializer,
)
from meters.relays.models import RelayGroupCommand
from meters.relays.rules import may_command_relays
from meters.roles import has_any_role
from meters.selectors import meters_visible_to


def _api_errors(call: Any) -> Any:
    try:
        return call()
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict")
                              else exc.messages) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc


class AnyRole(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return has_any_role(request.user)


class Commanders(BasePermission):
    """Reading: operators and admins; the rules of each write are the services'."""

    message = "only operators and admins may switch relays"

    def has_permission(self, request: Any, view: Any) -> bool:
        return may_command_relays(request.user)


@extend_schema(tags=["relays"], parameters=[
    OpenApiParameter("meter_pk", int, OpenApiParameter.PATH, description="meter id")])
class MeterRelayView(APIView):
    """A meter's relay outputs (state and modes as last read back) and its relay commands."""

    permission_classes = [AnyRole]

    def _meter(self) -> Any:
        return get_object_or_404(meters_visible_to(self.request.user), pk=self.kwargs["meter_pk"])

    @extend_schema(responses=MeterRelaysSerializer)
    def get(self, request: Request, meter_pk: int) -> Response:
        meter = self._meter()
        return Response(MeterRelaysSerializer({
            "outputs": selectors.output_states(meter),
            "commands": selectors.relay_history(meter)}).data)

    @extend_schema(request=RelayRequestSerializer, responses={201: RelayCommandSerializer},
                   parameters=[OpenApiParameter(
                       "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                       description="Repeat a request with the same key (a retry after a lost "
                                   "answer): the same command comes back, nothing is queued "
                                   "twice")])
    def post(self, request: Request, meter_pk: int) -> Response:
        """Close, open or pulse an output (operators and admins; a reason is required).
        Answers with the command, queued; it goes on to sent, then confirmed (read back),
        failed (with the reason) or expired."""
        meter = self._meter()
        body = RelayRequestSerializer(data=request.data)
        if not body.is_valid() and may_command_relays(request.user):
            raise ValidationError(body.errors)
        # Someone who may not command is refused by the service, which records the attempt.
        asked = body.validated_data if not body.errors else {}
        key = request.headers.get("Idempotency-Key", "")[:64]
        job = _api_errors(lambda: commands.relay_command(
            meter=meter, user=request.user, output=asked.get("output"),
            action=asked.get("action"), reason=asked.get("reason", ""),
            idempotency_key=f"relay-api-{request.user.pk}-{key}" if key else ""))
        return Response(RelayCommandSerializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["relays"])
class RelayGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """Group relay commands; above the approval size a second operator approves."""

    serializer_class = RelayGroupSerializer
    permission_classes = [Commanders]
    queryset = RelayGroupCommand.objects.none()

    def get_queryset(self) -> QuerySet[RelayGroupCommand]:
        return selectors.group_list().prefetch_related("meters")

    @extend_schema(request=GroupRequestSerializer, responses={201: RelayGroupSerializer})
    def create(self, request: Request) -> Response:
        body = GroupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        group = _api_errors(lambda: group_services.relay_group_request(
            user=request.user, **body.validated_data))
        return Response(RelayGroupSerializer(group).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses=RelayGroupSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        """Approve a waiting group command (a second operator, not the one who asked)."""
        return self._decide(request, group_services.relay_group_approve)

    @extend_schema(request=DecisionSerializer, responses=RelayGroupSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: Any = None) -> Response:
        """Reject a waiting group command (or withdraw your own)."""
        return self._decide(request, group_services.relay_group_reject)

    def _decide(self, request: Request, decide: Any) -> Response:
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        group = _api_errors(lambda: decide(group=self.get_object(), user=request.user,
                                           note=body.validated_data["note"]))
        return Response(RelayGroupSerializer(group).data)
