"""Tariff API: plans (list, create, edit as a new version, delete when unused), validation,
previews of a date's hours, hours per rate, export, and assignment to meters and labels."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from meters.api.permissions import RolePermissions
from meters.roles import ADMIN, OPERATOR, has_role
from meters.selectors import meter_list
from tariffs import selectors, services
from tariffs.api import serializers as s
from tariffs.api.parsers import PlanJSONParser
from tariffs.document import PlanDocument, parse_plan
from tariffs.exports import export_filename, export_text
from tariffs.models import TariffPlan
from tariffs.tou_status import fleet_tou_counts, meter_tou_status


class ProgramPermission(BasePermission):
    """Programming writes to meters: operators and admins (as every meter write)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, ADMIN, OPERATOR)

ERRORS = OpenApiResponse(description="what is wrong, by the place in the document: "
                                     "{\"sets[0].day_tables.2[3].start\": [\"...\"]}")


def document_or_400(data: Any) -> PlanDocument:
    result = parse_plan(data)
    if result.document is None:
        raise ValidationError(result.error_dict)
    return result.document


@extend_schema(tags=["tariffs"])
class TariffPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Tariff plans. PUT makes a new version; old versions stay as bills made them."""

    permission_classes = [RolePermissions]
    parser_classes = [PlanJSONParser]
    search_fields = ["name"]
    ordering_fields = ["name", "updated_at"]
    filterset_fields = ["currency"]

    def get_queryset(self) -> QuerySet[TariffPlan]:
        return selectors.plan_list()

    def get_serializer_class(self) -> Any:
        return s.TariffPlanDetailSerializer if self.action != "list" else s.TariffPlanSerializer

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError):  # a service's refusal, as a 400
            exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict")
                                  else {"non_field_errors": exc.messages})
        return super().handle_exception(exc)

    @extend_schema(request=s.PlanDocumentSerializer,
                   responses={201: s.TariffPlanDetailSerializer, 400: ERRORS})
    def create(self, request: Request) -> Response:
        version = services.tariff_plan_create(document=document_or_400(request.data),
                                              user=request.user)
        return Response(self._detail(version.plan), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PlanDocumentSerializer,
                   responses={200: s.TariffPlanDetailSerializer, 400: ERRORS})
    def update(self, request: Request, pk: Any = None) -> Response:
        plan = self.get_object()
        services.tariff_plan_update(plan=plan, document=document_or_400(request.data),
                                    user=request.user)
        return Response(self._detail(plan))

    @extend_schema(parameters=[s.VersionQuerySerializer],
                   responses={200: s.TariffPlanDetailSerializer, 400: ERRORS})
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        plan = self.get_object()
        query = self._query(s.VersionQuerySerializer)
        return Response(self._detail(plan, self._version(plan, query)))

    def perform_destroy(self, instance: TariffPlan) -> None:
        services.tariff_plan_delete(plan=instance)

    @extend_schema(request=s.PlanDocumentSerializer,
                   responses={200: s.ValidationAnswerSerializer})
    @action(detail=False, methods=["post"])
    def validate(self, request: Request) -> Response:
        """Check a document without saving it (what the editor does while you type)."""
        result = parse_plan(request.data)
        return Response({"valid": result.document is not None, "errors": result.error_dict})

    @extend_schema(parameters=[s.PreviewQuerySerializer],
                   responses={200: s.PreviewSerializer, 400: ERRORS})
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: Any = None) -> Response:
        """The rate at every hour of a date (23 or 25 hours on a summer-time change)."""
        plan = self.get_object()
        query = self._query(s.PreviewQuerySerializer)
        version = self._version(plan, query)
        document = version.parsed()
        zone = selectors.plan_zone(document, query.get("site"))
        return Response(s.PreviewSerializer({
            "date": query["date"], "timezone": str(zone), "version": version.number,
            "hours": selectors.plan_day_preview(document, query["date"], query.get("site"))
        }).data)

    @extend_schema(parameters=[s.HoursQuerySerializer],
                   responses={200: s.HoursSerializer, 400: ERRORS})
    @action(detail=True, methods=["get"])
    def hours(self, request: Request, pk: Any = None) -> Response:
        """Hours billed to each rate in ``month`` (YYYY-MM) or ``year``, in local time."""
        plan = self.get_object()
        query = self._query(s.HoursQuerySerializer)
        version = self._version(plan, query)
        document, site = version.parsed(), query.get("site")
        if "month" in query:
            year, month = query["month"]
            hours, period = (selectors.plan_month_hours(document, year, month, site),
                             f"{year:04d}-{month:02d}")
        else:
            hours = selectors.plan_year_hours(document, query["year"], site)
            period = f"{query['year']:04d}"
        return Response(s.HoursSerializer({
            "period": period, "timezone": str(selectors.plan_zone(document, site)),
            "version": version.number, "total": sum(hours.values()),
            "hours": {str(rate): value for rate, value in hours.items()},
            "rate_names": {str(n): r.name for n, r in document.rates.items()}}).data)

    @extend_schema(parameters=[s.VersionQuerySerializer],
                   responses={(200, "application/json"): s.PlanDocumentSerializer})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: Any = None) -> HttpResponse:
        """The plan's document as a JSON file, ready to import elsewhere."""
        plan = self.get_object()
        version = self._version(plan, self._query(s.VersionQuerySerializer))
        response = HttpResponse(export_text(version), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{export_filename(version)}"'
        return response

    @extend_schema(request=s.AssignSerializer, responses={200: s.TariffPlanSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: Any = None) -> Response:
        """Make this plan the desired tariff of meters (by id) and labels (by name), or with
        ``unassign`` remove theirs."""
        plan = self.get_object()
        body = s.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        meters, labels = body.validated_data.get("meters", []), body.validated_data.get(
            "labels", [])
        if body.validated_data["unassign"]:
            services.tariff_plan_unassign(meters=meters, labels=labels)
        else:
            services.tariff_plan_assign(plan=plan, meters=meters, labels=labels,
                                        user=request.user)
        return Response(s.TariffPlanSerializer(self.get_queryset().get(pk=plan.pk)).data)

    def get_permissions(self) -> list[Any]:
        if self.action == "program":
            return [ProgramPermission()]
        return super().get_permissions()

    @extend_schema(request=s.ProgramSerializer, responses={202: s.ProgramAnswerSerializer,
                                                           400: ERRORS})
    @action(detail=True, methods=["post"])
    def program(self, request: Request, pk: Any = None) -> Response:
        """Program the plan into every meter that should run it (or the ``meters`` given, each
        of which must), as meter jobs; answers with the jobs (watch them at /api/jobs/)."""
        plan = self.get_object()
        body = s.ProgramSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        chosen = body.validated_data.get("meters")
        if chosen:
            wrong = [m.code for m in chosen if m.pk not in
                     {p.pk for p in selectors.plan_meters(plan)}]
            if wrong:
                raise ValidationError({"meters": [f"{code} should not run this plan"
                                                  for code in wrong[:20]]})
            jobs = [services.tariff_program_meter(meter=m, user=request.user) for m in chosen]
        else:
            jobs = services.tariff_program_plan(plan=plan, user=request.user)
        return Response({"jobs": [{"id": j.pk, "meter": j.meter.code, "state": j.state}
                                  for j in jobs]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: s.MeterTouSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def meters(self, request: Request, pk: Any = None) -> Response:
        """Each meter that should run this plan, with the state of its two sets."""
        plan = self.get_object()
        visible = set(meter_list(user=request.user).values_list("pk", flat=True))
        rows = [meter_tou_status(m) | {"meter": m} for m in selectors.plan_meters(plan)
                if m.pk in visible]
        return Response(s.MeterTouSerializer(rows[:1000], many=True).data)

    @extend_schema(responses={200: s.FleetTouSerializer})
    @action(detail=False, methods=["get"], url_path="fleet-status", pagination_class=None,
            filter_backends=[])
    def fleet_status(self, request: Request) -> Response:
        """How many of your meters with a plan have their sets in sync, drifted, pending,
        failed or unknown (each meter counted by its worse set), as on the fleet page."""
        return Response(s.FleetTouSerializer(
            fleet_tou_counts(meter_list(user=request.user))).data)

    def _query(self, serializer: type[Any]) -> dict[str, Any]:
        query = serializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)

    def _version(self, plan: TariffPlan, query: dict[str, Any]) -> Any:
        try:
            return selectors.plan_version(plan, query.get("version"))
        except plan.versions.model.DoesNotExist:
            raise ValidationError({"version": f"plan has versions 1-{plan.latest_number}"}
                                  ) from None

    def _detail(self, plan: TariffPlan, version: Any = None) -> Any:
        plan = self.get_queryset().get(pk=plan.pk)
        return s.TariffPlanDetailSerializer(plan, context={"version": version}).data
