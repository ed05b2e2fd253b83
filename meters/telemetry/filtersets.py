"""FilterSets of telemetry, shared by the pages and the API."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

from kpm37.quantities import QUANTITIES
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC here: PostgreSQL refuses offsets past +-15:59, and a
    time near year 1 or 9999 may not exist in UTC; both become a 400 naming the parameter."""

    def to_python(self, value: object) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("the time is out of range once converted to UTC",
                                  code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class ReadingFilterSet(django_filters.FilterSet):
    """``?quantity=voltage_a&quantity=current_a&since=<ISO>&until=<ISO>&source=``."""

    quantity = django_filters.MultipleChoiceFilter(
        choices=[(n, n) for n in QUANTITIES], method="with_quantities",
        label="Quantity (repeat for several)")
    since = UtcIsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="time", lookup_expr="lt")
    source = django_filters.CharFilter()

    class Meta:
        model = Reading
        fields: list[str] = []

    def with_quantities(self, queryset: QuerySet[Reading], name: str,
                        value: list[str]) -> QuerySet[Reading]:
        return queryset.filter(values__has_any_keys=list(value)) if value else queryset


class DeadLetterFilterSet(django_filters.FilterSet):
    """``?kind=&meter_code=&topic=``."""

    kind = django_filters.ChoiceFilter(choices=DeadLetterKind.choices)
    meter_code = django_filters.CharFilter(lookup_expr="iexact")
    topic = django_filters.CharFilter()

    class Meta:
        model = DeadLetter
        fields: list[str] = []


class UnregisteredFilterSet(django_filters.FilterSet):
    """``?code=&adopted=true|false``."""

    code = django_filters.CharFilter(lookup_expr="icontains")
    adopted = django_filters.BooleanFilter(field_name="adopted_meter", lookup_expr="isnull",
                                           exclude=True)

    class Meta:
        model = UnregisteredMeter
        fields: list[str] = []
