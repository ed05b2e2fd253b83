"""Every inventory model is in the admin; the meter detail API takes extra sections."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from meters.api import serializers as meter_serializers
from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["site", "tenant", "label", "gateway", "meter"])
def test_admin_lists_searches_and_opens_each_model(admin: Any, client_as: Any, model: str) -> None:
    meter = MeterFactory()
    client = client_as(admin)
    assert client.get(f"/admin/meters/{model}/?q=a").status_code == 200
    obj_id = {"site": meter.site_id, "tenant": meter.tenant_id, "gateway": meter.gateway_id,
              "meter": meter.pk}.get(model)
    if obj_id:
        assert client.get(f"/admin/meters/{model}/{obj_id}/change/").status_code == 200


def test_admin_autocomplete_finds_gateways(admin: Any, client_as: Any) -> None:
    meter = MeterFactory()
    answer = client_as(admin).get("/admin/autocomplete/", {
        "app_label": "meters", "model_name": "meter", "field_name": "gateway",
        "term": meter.gateway.name})
    assert [r["text"] for r in answer.json()["results"]] == [meter.gateway.name]


def test_registered_detail_field_appears_in_meter_detail(operator: Any,
                                                         api_client_as: Any) -> None:
    meter = MeterFactory()
    meter_serializers.register_detail_field(
        "extra_test", lambda: serializers.SerializerMethodField(method_name="get_links"))
    try:
        body = api_client_as(operator).get(f"/api/meters/{meter.pk}/").json()
    finally:
        meter_serializers.DETAIL_FIELDS.pop("extra_test")
    assert body["extra_test"]["page"] == f"/meters/{meter.pk}/"
    listed = api_client_as(operator).get("/api/meters/").json()["results"][0]
    assert "extra_test" not in listed and "links" not in listed
