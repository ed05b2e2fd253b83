"""Dial-in meters each have a link of their own, so their unit ids may repeat on the gateway;
on a shared bus (Modbus TCP, RTU over TCP, LoRa, serial) an address stays unique."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from meters.choices import GatewayKind
from meters.csv_import import meter_import_validate
from meters.csv_save import meter_import_apply
from meters.models import Meter
from meters.services import gateway_update
from tests.factories import GatewayFactory, MeterFactory, SiteFactory, meter_code

pytestmark = pytest.mark.django_db


def payload(n: int, gateway: str) -> dict[str, Any]:
    return {"code": meter_code(800 + n), "profile": "kpm37", "transport": "modbus",
            "gateway": gateway, "address": 1, "site": "Plant", "ct_ratio": "1", "pt_ratio": "1"}


def test_dial_in_meters_may_all_be_unit_1_but_a_bus_refuses_a_second(
        operator: Any, api_client_as: Any) -> None:
    SiteFactory(name="Plant")  # an operator names sites, it does not create them
    GatewayFactory(name="listener", kind=GatewayKind.DIAL_IN, host="", port=16500)
    GatewayFactory(name="bus")
    client = api_client_as(operator)
    for n in range(3):
        assert client.post("/api/meters/", payload(n, "listener"), format="json").status_code \
            == 201
    assert client.post("/api/meters/", payload(10, "bus"), format="json").status_code == 201
    refused = client.post("/api/meters/", payload(11, "bus"), format="json")
    assert refused.status_code == 400
    assert "address 1 is already used on gateway bus" in refused.json()["address"][0]
    flags = Meter.objects.filter(gateway__name="listener").values_list("shares_bus", flat=True)
    assert list(flags) == [False] * 3


def test_csv_import_accepts_repeated_unit_ids_under_a_dial_in_gateway_only() -> None:
    GatewayFactory(name="listener", kind=GatewayKind.DIAL_IN, host="", port=16501)
    GatewayFactory(name="bus")
    header = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio"
    rows = [f"{meter_code(900 + n)},kpm37,modbus,listener,1,Plant,,,1,1" for n in range(3)]
    plan = meter_import_validate(data="\n".join([header, *rows]).encode())
    assert plan.problems == []
    meter_import_apply(plan=plan)
    assert Meter.objects.filter(gateway__name="listener", address=1, shares_bus=False).count() == 3
    clash = [f"{meter_code(950 + n)},kpm37,modbus,bus,1,Plant,,,1,1" for n in range(2)]
    problems = meter_import_validate(data="\n".join([header, *clash]).encode()).problems
    assert [(p.line, p.column) for p in problems] == [(3, "address")]


def test_a_listener_becomes_a_bus_only_when_its_addresses_are_distinct() -> None:
    listener = GatewayFactory(name="listener", kind=GatewayKind.DIAL_IN, host="", port=16502)
    MeterFactory(gateway=listener, address=1)
    clashing = MeterFactory(gateway=listener, address=1)
    with pytest.raises(ValidationError) as refusal:
        gateway_update(gateway=listener, fields={"kind": GatewayKind.MODBUS_TCP,
                                                 "host": "10.0.0.9"})
    assert "share address 1" in str(refusal.value.message_dict["kind"])
    clashing.address = 2
    clashing.save()
    gateway_update(gateway=listener, fields={"kind": GatewayKind.MODBUS_TCP, "host": "10.0.0.9"})
    assert not Meter.objects.filter(gateway=listener, shares_bus=False).exists()
