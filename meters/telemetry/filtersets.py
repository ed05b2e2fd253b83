"""FilterSets of telemetry, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from kpm37.quantities import QUANTITIES
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter


class ReadingFilterSet(django_filters.FilterSet):
    """``?quantity=voltage_a&quantity=current_a&since=<ISO>&until=<ISO>&source=``."""

    quantity = django_filters.MultipleChoiceFilter(
        choices=[(n, n) for n in QUANTITIES], method="with_quantities",
        label="Quantity (repeat for several)")
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")
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
