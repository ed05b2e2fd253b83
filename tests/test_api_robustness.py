"""Fuzz every API operation with schemathesis: no 5xx, and documented answers match the schema.

The schema is drf-spectacular's, generated in-process; requests go through the real Django WSGI
stack as an admin (DRF token). A small fleet is seeded so that detail and action routes reach
real rows: each operation's path ids are pinned to those rows. Every generated request runs in
a savepoint that is rolled back, so a DELETE or PUT in one example never changes what the next
one sees. Both schemathesis modes run: positive (valid by the schema) and negative (invalid
types, missing fields, out-of-range values), as bad input is where 500s hide.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from meters.alarms.choices import AlarmKind, AlarmSource, AlarmState, Severity
from meters.alarms.models import Alarm, NotificationChannel
from meters.audit.services import audit_record
from meters.relays.models import RelayGroupCommand
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter, Reading, UnregisteredMeter
from tests.factories import GatewayFactory, LabelFactory, MeterFactory, TenantFactory, meter_code

pytestmark = pytest.mark.django_db

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
# Path prefix of each collection -> the seeded row its {id} routes are pinned to.
PINNED = {"/api/sites/": "site", "/api/tenants/": "tenant", "/api/labels/": "label",
          "/api/gateways/": "gateway", "/api/meters/": "meter", "/api/alarms/": "alarm",
          "/api/alarm-channels/": "channel", "/api/dead-letters/": "dead_letter",
          "/api/unregistered-meters/": "unregistered", "/api/tariffs/": "tariff",
          "/api/audit/": "audit", "/api/relay-groups/": "relay_group"}


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI app, without the per-request connection recycling that would end the
    test's transaction (Django's test client disconnects the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fleet(admin: Any) -> dict[str, Any]:
    """A site with a tenant, a gateway with three meters, a reading, an alarm, and the rest."""
    now = datetime.now(UTC)
    gateway = GatewayFactory(name="gw-fuzz")
    tenant = TenantFactory(name="Fuzz Tenant", site=gateway.site)
    label = LabelFactory(name="fuzz")
    meters = [MeterFactory(gateway=gateway, address=n, tenant=tenant, labels=[label])
              for n in (1, 2, 3)]
    Reading.objects.create(meter=meters[0], source="modbus", time=now, received_at=now,
                           values={"voltage_a": 230.1})
    alarm = Alarm.objects.create(kind=AlarmKind.OVER_VOLTAGE, source=AlarmSource.METER,
                                 severity=Severity.MAJOR, meter=meters[0],
                                 state=AlarmState.ACTIVE, first_seen_at=now, last_seen_at=now)
    return {
        "site": gateway.site, "tenant": tenant, "label": label, "gateway": gateway,
        "meter": meters[0], "alarm": alarm,
        "channel": NotificationChannel.objects.create(name="ops", kind="email",
                                                      target="ops@example.com"),
        "dead_letter": DeadLetter.objects.create(
            kind=DeadLetterKind.values[0], topic="MQTT_RT_DATA", payload=b"\xff{",
            reason="not JSON", received_at=now),
        "unregistered": UnregisteredMeter.objects.create(
            code=meter_code(900, communication="2"), first_seen_at=now, last_seen_at=now,
            message_count=1),
        "tariff": _tariff_plan(),
        "token": Token.objects.create(user=admin).key,
        "relay_group": _relay_group(admin, meters),
        "audit": audit_record(kind="meter.update", obj=meters[0], actor=admin,
                              before={"ct_ratio": "1.0"}, after={"ct_ratio": "2.0"}),
    }


def _tariff_plan() -> Any:
    from tariffs.document import parse_plan
    from tariffs.services import tariff_plan_create

    document = {"name": "Fuzz plan", "currency": "EUR", "billing_day": 1,
                "rates": {"3": {"name": "Flat", "price": "0.2"}},
                "sets": [{"zones": [{"start": "01-01", "day_table": 1}],
                          "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}] * 2}
    return tariff_plan_create(document=parse_plan(document).document).plan


def _relay_group(user: Any, meters: list[Any]) -> RelayGroupCommand:
    group = RelayGroupCommand.objects.create(
        output=1, action="open", reason="fuzz", selection="3 meters by code", meter_count=3,
        needs_approval=False, state="awaiting", rate_per_minute=30, requested_by=user,
        requested_by_name=user.username, requested_at=datetime.now(UTC))
    group.meters.set(meters)
    return group


def _api_schema() -> Any:
    """drf-spectacular's schema, rendered to plain JSON as /api/schema/ would serve it."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


def _pinned_ids(path: str, fleet: dict[str, Any]) -> dict[str, int]:
    if path.startswith("/api/meters/{meter_pk}/"):
        return {"meter_pk": fleet["meter"].pk}
    for prefix, name in PINNED.items():
        if path.startswith(prefix) and "{id}" in path:
            return {"id": fleet[name].pk}
    return {}


def _fuzz(operation: Any, mode: GenerationMode, fleet: dict[str, Any], app: Any) -> None:
    headers = {"Authorization": f"Token {fleet['token']}"}
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)
    strategy = operation.as_strategy(generation_mode=mode,
                                     path_parameters=_pinned_ids(operation.path, fleet))

    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        with transaction.atomic():
            case.call_and_validate(app=app, headers=headers, checks=checks)
            transaction.set_rollback(True)

    run()


@pytest.fixture
def offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook targets are resolved when a channel is saved; generated host names would each
    wait for the network's resolver, so names do not resolve here and address literals
    resolve as they always do, without DNS."""
    real = socket.getaddrinfo

    def numeric_only(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real(host, port, *args[:3], flags=socket.AI_NUMERICHOST)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)


# About 40 s on an idle machine for ~50 operations x 32 requests; it grows with every endpoint
# and with load, and pytest-timeout's 120 s default cut it mid-request (seen as flaky 500s).
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_operation_survives_generated_input(fleet: dict[str, Any], wsgi_app: WSGIHandler,
                                                  offline_dns: None) -> None:
    """Each operation, positive and negative, answers without a server error."""
    failures = []
    operations = [result.ok() for result in _api_schema().get_all_operations()]
    assert len(operations) > 40  # every router is in the schema
    for operation in operations:
        for mode in EXAMPLES:
            try:
                _fuzz(operation, mode, fleet, wsgi_app)
            except Unsatisfiable:
                pass  # negative mode, but the pinned path id was all there was to break
            except (Exception, BaseExceptionGroup) as exc:  # report every operation at once
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("collection", ["sites", "gateways"])
def test_deleting_what_meters_still_use_is_refused(fleet: dict[str, Any], api_client_as: Any,
                                                   admin: Any, collection: str) -> None:
    """Found by the fuzzer: this was a 500 (ProtectedError); now a 400 saying what uses it."""
    row = fleet["site" if collection == "sites" else "gateway"]
    answer = api_client_as(admin).delete(f"/api/{collection}/{row.pk}/")
    assert answer.status_code == 400
    assert "still used by" in answer.json()["non_field_errors"][0]
    assert "3 meters" in answer.json()["non_field_errors"][0]
    assert type(row).objects.filter(pk=row.pk).exists()


# --- NUL characters and deep nesting: one parser in front of every write ---------------------

def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


NUL_BODIES = [
    ("/api/sites/", {"name": "Site\x00X", "timezone": "UTC"}, "name"),
    ("/api/tenants/", {"name": "Tenant", "site": "Fuzz\x00"}, "site"),
    ("/api/tenants/", {"name": "T\x00"}, "name"),
    ("/api/gateways/", {"name": "gw-nul", "kind": "tcp", "host": "10.0.0.9", "port": 502,
                        "site": "\x00"}, "site"),
    ("/api/meters/", {"code": "x", "site": "S\x00", "tenant": "T"}, "site"),
    ("/api/meters/", {"code": "x", "labels": ["ok", "b\x00d"]}, "labels[1]"),
    ("/api/labels/", {"name\x00": "x"}, "name\x00"),
]


@pytest.mark.parametrize(("path", "body", "field"), NUL_BODIES)
@pytest.mark.parametrize("body_format", ["json", "multipart"])
def test_nul_characters_are_a_400_naming_the_field(fleet: dict[str, Any], api_client_as: Any,
                                                   admin: Any, path: str, body: dict[str, Any],
                                                   field: str, body_format: str) -> None:
    """Found by hand (issue 7): a NUL in a name matched field reached PostgreSQL, a 500."""
    if body_format == "multipart" and any(isinstance(v, list) for v in body.values()):
        field = field.split("[")[0]  # a form repeats the key instead of indexing it
    answer = api_client_as(admin).post(path, body, format=body_format)
    assert answer.status_code == 400, answer.content
    assert "NUL character" in answer.json()[field][0]


def test_nul_in_the_adopt_body_and_the_search_is_refused(fleet: dict[str, Any],
                                                         api_client_as: Any,
                                                         admin: Any) -> None:
    client = api_client_as(admin)
    adopt = f"/api/unregistered-meters/{fleet['unregistered'].pk}/adopt/"
    answer = client.post(adopt, {"site": "Fuzz\x00", "tenant": "x"}, format="json")
    assert answer.status_code == 400 and "site" in answer.json()
    for collection in ("meters", "sites", "tenants", "gateways", "labels"):
        answer = client.get(f"/api/{collection}/?search=a%00b")
        assert answer.status_code == 400, collection  # DRF's search field refuses it


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize(("path", "field"), [
    ("/api/sites/", "name"), ("/api/meters/", "labels"), ("/api/alarm-channels/", "target"),
    ("/api/alarms/{alarm}/acknowledge/", "comment"),
])
def test_deeply_nested_json_is_a_400_naming_the_field(fleet: dict[str, Any],
                                                      api_client_as: Any, admin: Any,
                                                      path: str, field: str,
                                                      levels: int) -> None:
    """Found by hand (issue 7): 1,000 levels raised RecursionError on several write endpoints."""
    body = f'{{"name": "x", "{field}": {_deep(levels)}}}'
    answer = api_client_as(admin).generic("POST", path.format(alarm=fleet["alarm"].pk), body,
                                          content_type="application/json")
    assert answer.status_code == 400
    assert "nested deeper than" in answer.json()[field][0]
    top = api_client_as(admin).generic("POST", "/api/sites/", _deep(levels),
                                       content_type="application/json")
    assert top.status_code == 400 and "body" in top.json()


def test_brackets_inside_strings_are_not_nesting(fleet: dict[str, Any], api_client_as: Any,
                                                 admin: Any) -> None:
    name = '[[[[{"\\"' * 10  # 50 brackets and escaped quotes inside one string
    answer = api_client_as(admin).post("/api/sites/", {"name": name[:100], "timezone": "UTC"},
                                       format="json")
    assert answer.status_code == 201, answer.content


@pytest.mark.parametrize("key", ["ab\x00cd", "x" * 5000, "0" * 39 + "\x00"])
def test_a_malformed_token_is_a_401_not_a_lookup(fleet: dict[str, Any], key: str) -> None:
    """A NUL in the Authorization header reached PostgreSQL (a 500)."""
    answer = APIClient().get("/api/meters/", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 401
    ok = APIClient().get("/api/meters/", HTTP_AUTHORIZATION=f"Token {fleet['token']}")
    assert ok.status_code == 200
