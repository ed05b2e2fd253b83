"""The one FilterSet for alarms, shared by the alarms page and ``/api/alarms/``."""

from __future__ import annotations

import django_filters
from django import forms

from meters.alarms.choices import AlarmKind, AlarmSource, AlarmState, Severity
from meters.alarms.models import Alarm


class AnyYesNoSelect(forms.NullBooleanSelect):
    """A yes/no select whose empty choice reads "Any" (Django's says "Unknown")."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


class AlarmFilterSet(django_filters.FilterSet):
    """``?meter=<code>&state=&severity=&kind=&source=&open=true``."""

    meter = django_filters.CharFilter(field_name="meter__code", lookup_expr="iexact",
                                      label="Meter code")
    meter_id = django_filters.NumberFilter(field_name="meter_id")
    state = django_filters.ChoiceFilter(choices=AlarmState.choices, empty_label="Any")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any")
    kind = django_filters.ChoiceFilter(choices=AlarmKind.choices, empty_label="Any")
    source = django_filters.ChoiceFilter(choices=AlarmSource.choices, empty_label="Any")
    open = django_filters.BooleanFilter(method="only_open", label="Open (not cleared)",
                                        widget=AnyYesNoSelect)

    class Meta:
        model = Alarm
        fields: list[str] = []

    def only_open(self, queryset: object, name: str, value: bool | None) -> object:
        if value is None:
            return queryset
        method = queryset.exclude if value else queryset.filter  # type: ignore[attr-defined]
        return method(state=AlarmState.CLEARED)
