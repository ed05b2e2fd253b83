"""``/api/audit/``: the trail, read-only, with the page's filters and its CSV export."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from meters.audit.api.serializers import AuditRecordSerializer
from meters.audit.export import csv_response
from meters.audit.filtersets import AuditFilterSet
from meters.audit.models import AuditRecord
from meters.audit.selectors import audit_list, may_read_audit


class AuditReader(BasePermission):
    """Admins, operators and billing clerks (each sees its share of the trail)."""

    message = "your role does not include the audit trail"

    def has_permission(self, request: Any, view: Any) -> bool:
        return may_read_audit(request.user)


class CSVRenderer(renderers.BaseRenderer):
    """Lets a client ask for text/csv; the export answers with its own streamed response."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Any = None) -> Any:
        return data if isinstance(data, str | bytes) else str(data)


@extend_schema(tags=["audit"])
class AuditRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """``?meter=<code>&user=<username>&kind=&area=&via=&result=&since=&until=``; newest first.
    Nothing here (nor anywhere) changes or deletes a record."""

    serializer_class = AuditRecordSerializer
    permission_classes = [AuditReader]
    filterset_class = AuditFilterSet
    filter_backends = [DjangoFilterBackend]
    queryset = AuditRecord.objects.none()

    def get_queryset(self) -> QuerySet[AuditRecord]:
        return audit_list(user=self.request.user)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], url_path="export",
            renderer_classes=[renderers.JSONRenderer, CSVRenderer])
    def export(self, request: Request) -> StreamingHttpResponse:
        """Every record the filters select, as a streamed CSV file."""
        filterset = AuditFilterSet(request.query_params, queryset=self.get_queryset())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return csv_response(filterset.qs)
