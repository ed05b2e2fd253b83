"""The one FilterSet of the audit trail, shared by the page, its CSV export and the API."""

from __future__ import annotations

import django_filters

from meters.audit.choices import Result, Via, kind_choices
from meters.audit.models import AuditRecord
from meters.telemetry.filtersets import UtcIsoDateTimeFilter


class AuditFilterSet(django_filters.FilterSet):
    """``?meter=<code>&user=<username>&kind=&area=&via=&result=&since=&until=``."""

    meter = django_filters.CharFilter(field_name="meter_code", lookup_expr="iexact",
                                      label="Meter code")
    meter_id = django_filters.NumberFilter(field_name="meter_id")
    user = django_filters.CharFilter(field_name="actor_name", lookup_expr="iexact",
                                     label="User")
    kind = django_filters.ChoiceFilter(choices=kind_choices, empty_label="Any")
    area = django_filters.CharFilter(field_name="area", label="Area (e.g. meter, user, relay)")
    via = django_filters.ChoiceFilter(choices=Via.choices, empty_label="Any")
    result = django_filters.ChoiceFilter(choices=Result.choices, empty_label="Any")
    since = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte",
                                             label="From (UTC)")
    until = UtcIsoDateTimeFilter(field_name="at", lookup_expr="lt",
                                             label="Until (UTC)")
    request_id = django_filters.CharFilter(field_name="request_id")

    class Meta:
        model = AuditRecord
        fields: list[str] = []
