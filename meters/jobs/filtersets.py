"""The job FilterSet, shared by the API list and the pages: by meter code, gateway, kind, state."""

from __future__ import annotations

import django_filters

from meters.jobs.choices import JobState, Priority
from meters.jobs.models import MeterJob


class JobFilterSet(django_filters.FilterSet):
    """``?meter=CODE&gateway=NAME&kind=&state=&priority=&meter_id=``."""

    meter = django_filters.CharFilter(field_name="meter__code", lookup_expr="iexact",
                                      label="Meter code")
    meter_id = django_filters.NumberFilter(field_name="meter_id")
    gateway = django_filters.CharFilter(field_name="meter__gateway__name", label="Gateway")
    kind = django_filters.CharFilter()
    state = django_filters.MultipleChoiceFilter(choices=JobState.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)

    class Meta:
        model = MeterJob
        fields: list[str] = []
