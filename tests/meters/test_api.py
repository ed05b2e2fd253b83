"""Inventory API: create with the CSV's fields, filters, scoping per role, named errors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from meters.models import Meter
from tests.factories import GatewayFactory, LabelFactory, MeterFactory, meter_code

pytestmark = pytest.mark.django_db


def meter_payload(**changes: Any) -> dict[str, Any]:
    return {"code": meter_code(700), "profile": "kpm37", "transport": "modbus",
            "gateway": "bus-a", "address": 7, "site": "Plant", "tenant": "ACME",
            "labels": "floor-1;hvac", "ct_ratio": "100", "pt_ratio": "1", **changes}


def test_admin_creates_meter_by_names_and_gets_detail(admin: Any, api_client_as: Any) -> None:
    GatewayFactory(name="bus-a")
    answer = api_client_as(admin).post("/api/meters/", meter_payload(), format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["model"] == "KPM37" and body["gateway"] == "bus-a" and body["address"] == 7
    assert body["site"] == "Plant" and body["tenant"] == "ACME"
    assert sorted(body["labels"]) == ["floor-1", "hvac"]
    assert body["links"]["alarms"] == f"/alarms/?meter={meter_code(700)}"
    assert Meter.objects.get(code=meter_code(700)).tenant.site.name == "Plant"


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"code": "9991025100001"}, "code", "unknown model"),
    ({"gateway": "nowhere"}, "gateway", "unknown gateway"),
    ({"address": 3}, "address", "already used"),
    ({"profile": "nope"}, "profile", "unknown profile"),
    ({"transport": "mqtt"}, "gateway", "does not use a gateway"),
    ({"ct_ratio": "0"}, "ct_ratio", "between"),
    ({"address": 300}, "address", "247"),
    ({"labels": 5}, "labels", "label names"),
])
def test_bad_meter_is_refused_naming_field_and_reason(admin: Any, api_client_as: Any,
                                                      changes: dict[str, Any], field: str,
                                                      reason: str) -> None:
    MeterFactory(gateway=GatewayFactory(name="bus-a"), address=3)
    answer = api_client_as(admin).post("/api/meters/", meter_payload(**changes), format="json")
    assert answer.status_code == 400
    assert reason in " ".join(answer.json()[field])
    assert not Meter.objects.filter(code=meter_code(700)).exists()


def test_patch_moves_meter_through_the_same_checks(operator: Any, api_client_as: Any) -> None:
    gateway = GatewayFactory(name="bus-a")
    meter = MeterFactory(gateway=gateway, address=1)
    MeterFactory(gateway=gateway, address=2)
    client = api_client_as(operator)
    clash = client.patch(f"/api/meters/{meter.pk}/", {"address": 2}, format="json")
    assert clash.status_code == 400 and "already used" in clash.json()["address"][0]
    moved = client.patch(f"/api/meters/{meter.pk}/", {"address": 9, "labels": ["x"]},
                         format="json")
    assert moved.status_code == 200 and moved.json()["address"] == 9
    assert moved.json()["labels"] == ["x"]


def test_filters_named_after_fields(billing_clerk: Any, api_client_as: Any) -> None:
    bus = GatewayFactory(name="bus-f")
    wanted = MeterFactory(gateway=bus, address=1, status="online", labels=[LabelFactory(name="l1")])
    MeterFactory(gateway=bus, address=2, status="offline")
    MeterFactory(mqtt=True)
    client = api_client_as(billing_clerk)
    for query in (f"code={wanted.code}", f"site={wanted.site.name}&status=online",
                  f"tenant={wanted.tenant.name}", "label=l1", "gateway=bus-f&status=online",
                  f"search={wanted.code[-6:]}", f"tenant_id={wanted.tenant_id}"):
        codes = [m["code"] for m in client.get(f"/api/meters/?{query}").json()["results"]]
        assert codes == [wanted.code], query
    assert client.get("/api/meters/?model=KPM37").json()["count"] == 3
    ordered = client.get("/api/meters/?gateway=bus-f&ordering=-address").json()["results"]
    assert [m["address"] for m in ordered] == [2, 1]


def test_tenant_viewer_sees_only_its_tenants_meters(tenant_viewer: Any, tenant: Any,
                                                    api_client_as: Any) -> None:
    mine = MeterFactory(tenant=tenant)
    other = MeterFactory()
    client = api_client_as(tenant_viewer)
    assert [m["code"] for m in client.get("/api/meters/").json()["results"]] == [mine.code]
    assert client.get(f"/api/meters/{mine.pk}/").status_code == 200
    assert client.get(f"/api/meters/{other.pk}/").status_code == 404
    assert client.get("/api/gateways/").status_code == 403
    assert client.post("/api/meters/", meter_payload(), format="json").status_code == 403


def test_billing_reads_but_cannot_write(billing_clerk: Any, api_client_as: Any) -> None:
    meter = MeterFactory()
    client = api_client_as(billing_clerk)
    assert client.get("/api/gateways/").status_code == 200
    assert client.post("/api/meters/", meter_payload(), format="json").status_code == 403
    assert client.delete(f"/api/meters/{meter.pk}/").status_code == 403
    assert client.post("/api/sites/", {"name": "X"}, format="json").status_code == 403


def test_outsider_and_anonymous_are_refused(outsider: Any, api_client_as: Any,
                                            client: Any) -> None:
    for path in ("/api/meters/", "/api/sites/", "/api/tenants/", "/api/labels/",
                 "/api/gateways/"):
        assert api_client_as(outsider).get(path).status_code == 403
        assert client.get(path).status_code in (401, 403)


def test_token_auth_and_gateway_create(admin: Any, client: Any) -> None:
    token = Token.objects.create(user=admin)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    made = client.post("/api/gateways/", {"name": "bus-t", "kind": "modbus-tcp",
                                          "host": "10.0.0.5", "port": 502},
                       content_type="application/json", **headers)
    assert made.status_code == 201, made.json()
    serial = client.post("/api/gateways/", {"name": "ser", "kind": "serial"},
                         content_type="application/json", **headers)
    assert serial.status_code == 400 and "device" in serial.json()
    listed = client.get("/api/gateways/?name=bus-t", **headers).json()
    assert listed["results"][0]["meter_count"] == 0


def test_admin_deletes_meter(admin: Any, api_client_as: Any) -> None:
    meter = MeterFactory()
    assert api_client_as(admin).delete(f"/api/meters/{meter.pk}/").status_code == 204
    assert not Meter.objects.filter(pk=meter.pk).exists()
