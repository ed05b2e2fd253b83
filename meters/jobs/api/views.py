"""Jobs API: the job list (scoped, filtered), cancel, and submitting jobs on a meter.

``POST /api/meters/{id}/read/`` and ``/write/`` (and ``/jobs/`` for any kind) answer 201 with
the job; the caller follows it at ``/api/jobs/{id}/``. Only roles allowed to add jobs (operators
and admins) may submit; the values are checked against the meter's profile first (400 naming
the value).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meters.api.permissions import RolePermissions
from meters.api.views import api_errors
from meters.jobs import selectors, services
from meters.jobs.api.serializers import (
    JobSerializer,
    ReadRequestSerializer,
    SubmitRequestSerializer,
    WriteRequestSerializer,
)
from meters.jobs.filtersets import JobFilterSet
from meters.jobs.models import MeterJob
from meters.models import Meter
from meters.roles import has_any_role
from meters.selectors import meters_visible_to

SUBMIT_PERMISSION = "jobs.add_meterjob"


@extend_schema(tags=["jobs"])
class JobViewSet(viewsets.ReadOnlyModelViewSet[MeterJob]):
    """Meter jobs on the meters you may see, newest first."""

    serializer_class = JobSerializer
    permission_classes = [RolePermissions]
    filterset_class = JobFilterSet
    ordering_fields = ["created_at", "priority", "state"]
    search_fields = ["meter__code", "reason", "requested_by_name"]

    def get_queryset(self) -> QuerySet[MeterJob]:
        return selectors.job_list(user=self.request.user)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a job that has not started yet."""
        _require_submit(request)
        job = self.get_object()
        with api_errors():
            job = services.job_cancel(job=job, by=request.user)
        return Response(JobSerializer(job).data)


def _require_submit(request: Request) -> None:
    if not (has_any_role(request.user) and request.user.has_perm(SUBMIT_PERMISSION)):
        raise PermissionDenied("your role may not act on meters (operators and admins may)")


class _MeterJobView(APIView):
    """A POST that submits one job on a visible meter."""

    permission_classes = [RolePermissions]
    queryset = MeterJob.objects.none()  # RolePermissions: the model whose permissions count
    kind = ""

    def _submit(self, request: Request, meter_pk: int, kind: str, payload: dict[str, Any],
                data: dict[str, Any]) -> Response:
        _require_submit(request)
        meter: Meter = get_object_or_404(meters_visible_to(request.user), pk=meter_pk)
        with api_errors():
            job = services.job_submit(meter=meter, kind=kind, payload=payload,
                                      requested_by=request.user, reason=data["reason"],
                                      idempotency_key=data["idempotency_key"])
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["jobs"])
class MeterReadView(_MeterJobView):
    @extend_schema(request=ReadRequestSerializer, responses={201: JobSerializer})
    def post(self, request: Request, meter_pk: int) -> Response:
        """Read named values of the meter (none: its whole configuration) through a job."""
        data = _valid(ReadRequestSerializer, request)
        return self._submit(request, meter_pk, "read", {"names": data["names"]}, data)


@extend_schema(tags=["jobs"])
class MeterWriteView(_MeterJobView):
    @extend_schema(request=WriteRequestSerializer, responses={201: JobSerializer})
    def post(self, request: Request, meter_pk: int) -> Response:
        """Write named values; verified only when every value reads back equal."""
        data = _valid(WriteRequestSerializer, request)
        return self._submit(request, meter_pk, "write", {"values": data["values"]}, data)


@extend_schema(tags=["jobs"])
class MeterJobSubmitView(_MeterJobView):
    @extend_schema(request=SubmitRequestSerializer, responses={201: JobSerializer})
    def post(self, request: Request, meter_pk: int) -> Response:
        """Submit a job of any registered kind (docs/jobs.md lists them and their payloads)."""
        data = _valid(SubmitRequestSerializer, request)
        return self._submit(request, meter_pk, data["kind"], data["payload"], data)


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
