"""Every HTML page with a form or filters, fed garbage: never a 500, never a changed database.

Filters with bad query parameters (wrong types, unknown choices, huge numbers, NUL bytes) answer
200 and say which field is wrong; unknown ids answer 404; bad uploads and posts answer with the
reason, naming the field or column. A snapshot of every inventory, telemetry and alarm row is
taken before each request and compared after it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from meters.alarms.choices import AlarmKind, AlarmSource, AlarmState, Severity
from meters.alarms.models import Alarm
from meters.forms import MAX_IMPORT_BYTES, MB, megabytes
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.telemetry.models import Reading, UnregisteredMeter
from tests.factories import GatewayFactory, MeterFactory, TenantFactory, meter_code

pytestmark = pytest.mark.django_db

HEADER = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio\n"
HUGE_INT = "9" * 40
STORED = (Site, Tenant, Label, Gateway, Meter, Reading, Alarm, UnregisteredMeter)


@pytest.fixture
def fleet(db: None) -> dict[str, Any]:
    """A gateway with two meters, a reading, an active alarm and an unregistered code."""
    now = datetime.now(UTC)
    gateway = GatewayFactory(name="gw-forms")
    tenant = TenantFactory(name="Forms Tenant", site=gateway.site)
    meters = [MeterFactory(gateway=gateway, address=n, tenant=tenant) for n in (1, 2)]
    Reading.objects.create(meter=meters[0], source="modbus", time=now, received_at=now,
                           values={"voltage_a": 230.0})
    alarm = Alarm.objects.create(kind=AlarmKind.OVER_VOLTAGE, source=AlarmSource.METER,
                                 severity=Severity.MAJOR, meter=meters[0],
                                 state=AlarmState.ACTIVE, first_seen_at=now, last_seen_at=now)
    unregistered = UnregisteredMeter.objects.create(
        code=meter_code(800, communication="2"), first_seen_at=now, last_seen_at=now)
    return {"gateway": gateway, "meter": meters[0], "alarm": alarm,
            "unregistered": unregistered}


@pytest.fixture
def web(admin: Any, client_as: Any) -> Client:
    return client_as(admin)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every stored row of the apps under test, field by field."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in STORED}


def text(answer: Any) -> str:
    return str(answer.content.decode())


# (page, query, what the page must say about it): wrong choices, wrong types, huge numbers.
BAD_FILTERS = [
    ("/", "?page=abc&ordering=nope&status=xyz", "Select a valid choice"),
    ("/", f"?site_id=abc&tenant_id={HUGE_INT}&gateway_id=1e999", "site_id"),
    ("/", "?model=zzz&transport=carrier-pigeon&q=" + "x" * 5000, "Select a valid choice"),
    ("/", "?q=a%00b", "Null characters are not allowed"),
    ("/", "?page=-1&page=99999999999999999999", ""),
    ("/meters/counts/", "?status=xyz&site_id=abc", ""),
    ("/gateways/", "?kind=xyz&enabled=maybe&page=abc", "Select a valid choice"),
    ("/alarms/", "?state=xyz&severity=9&open=maybe&meter_id=abc&page=abc",
     "Select a valid choice"),
    ("/alarms/", f"?meter_id={HUGE_INT}&kind=" + "k" * 3000, "Select a valid choice"),
    ("/telemetry/dead-letters/", "?kind=xyz&page=abc&meter_code=%00", "Select a valid choice"),
]


@pytest.mark.parametrize(("path", "query", "says"), BAD_FILTERS)
def test_list_filters_refuse_garbage_with_a_reason(fleet: Any, web: Client, path: str,
                                                   query: str, says: str) -> None:
    before = snapshot()
    answer = web.get(path + query)
    assert answer.status_code == 200
    assert says in text(answer)
    answer = web.get(path + query, headers={"HX-Request": "true"})  # the HTMX fragment too
    assert answer.status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("query", [
    "?quantity=nope&since=yesterday&until=" + "9" * 30,
    "?since=1402-04-28T12:29:58%2B22:57&until=0001-01-01T00:00:00%2B05:00",
    "?since=9999-12-31T23:59:59-10:00",
    "?quantity=" + "&quantity=".join(["voltage_a"] * 300),
])
def test_history_filters_refuse_garbage(fleet: Any, web: Client, query: str) -> None:
    answer = web.get(f"/telemetry/meters/{fleet['meter'].pk}/history/{query}")
    assert answer.status_code == 200


def test_bad_times_in_history_name_the_parameter(fleet: Any, web: Client) -> None:
    answer = web.get(f"/telemetry/meters/{fleet['meter'].pk}/history/"
                     "?since=yesterday&until=0001-01-01T00:00:00%2B05:00")
    assert "since: Enter a valid date/time" in text(answer)
    assert "until: the time is out of range once converted to UTC" in text(answer)


@pytest.mark.parametrize("path", [
    "/meters/{big}/", "/gateways/{big}/", "/telemetry/meters/{big}/live/",
    "/telemetry/meters/{big}/history/", "/meters/0/", "/gateways/0/",
])
def test_unknown_ids_are_404(fleet: Any, web: Client, path: str) -> None:
    assert web.get(path.format(big=HUGE_INT)).status_code == 404


def test_login_with_garbage_says_so(fleet: Any) -> None:
    client = Client()
    for data in ({}, {"username": "x" * 100_000, "password": "p"},
                 {"username": ["a", "b"], "password": "\x00"}):
        answer = client.post("/accounts/login/", data)
        assert answer.status_code == 200
        assert "error" in text(answer)


# --- CSV import -------------------------------------------------------------------------------

def upload(web: Client, data: bytes | None, name: str = "m.csv") -> Any:
    files = {} if data is None else {"file": SimpleUploadedFile(name, data)}
    return web.post("/import/", files)


@pytest.mark.parametrize(("data", "says"), [
    (None, "This field is required"),
    (b"", "The submitted file is empty"),
    (HEADER.encode() + "30710246000\xe4,kpm37".encode("latin-1"), "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    (b"code;profile\n1;2\n", "missing column"),
    (HEADER.encode(), "header but no meters"),
    (HEADER.encode() + b"a,b\n", "has 2 fields"),
    (HEADER.encode() + b"x" * 1_000_000 + b",kpm37,,,,,,,,\n", "line 2"),
    (HEADER.encode() + b'"' + b"y" * 1_000_000 + b'\n', "line 2"),
    (HEADER.encode() + f"{meter_code(1)},kpm37,modbus,gw-forms,{HUGE_INT},,,,1e999,-0\n"
     .encode(), "column address"),
    (HEADER.encode() + f"{meter_code(3)},kpm37,mqtt,,,Site\x00X,T\x00,,,\n".encode(),
     "column site"),
    (HEADER.encode() + f"{meter_code(4)},kpm37,mqtt,,,{'s' * 101},,,,\n".encode(),
     "column site"),
])
def test_bad_import_files_are_refused_with_the_reason(fleet: Any, web: Client,
                                                      settings: Any, tmp_path: Path,
                                                      data: bytes | None, says: str) -> None:
    settings.VAR_DIR = tmp_path
    before = snapshot()
    answer = upload(web, data)
    assert answer.status_code == 200
    assert says in text(answer)
    assert "/confirm/" not in text(answer)  # no way to import it
    assert snapshot() == before
    assert len(text(answer)) < 200_000  # a 1 MB cell is not echoed back whole


@pytest.mark.parametrize("token", ["nope", "0" * 32, "../../etc/passwd", "a" * 5000])
def test_confirm_with_an_unknown_token_is_404(fleet: Any, web: Client, settings: Any,
                                              tmp_path: Path, token: str) -> None:
    settings.VAR_DIR = tmp_path
    before = snapshot()
    assert web.post(f"/import/{token}/confirm/").status_code == 404
    assert web.get(f"/import/{'0' * 32}/confirm/").status_code == 405
    assert snapshot() == before


# --- alarms and adoption ----------------------------------------------------------------------

@pytest.mark.parametrize(("data", "refused"), [
    ({"comment": "c" * 100_000}, "comment: Ensure this value has at most 2000 characters"),
    ({"comment": "\x00"}, "comment: Null characters are not allowed"),
    ({"comment": ["a", "b"]}, ""),
    ({"next": "https://evil.example/"}, ""), ({"next": "//evil.example/x"}, ""),
    ({"next": "javascript:x"}, ""),
])
def test_acknowledge_with_garbage_never_fails_or_leaves(fleet: Any, web: Client,
                                                        data: dict[str, Any],
                                                        refused: str) -> None:
    answer = web.post(f"/alarms/{fleet['alarm'].pk}/acknowledge/", data)
    assert answer.status_code == 302
    assert answer["Location"] == "/alarms/"  # never off-site, never a 500 on a bad ``next``
    fleet["alarm"].refresh_from_db()
    if refused:
        assert refused in text(web.get("/alarms/"))
        assert fleet["alarm"].state == AlarmState.ACTIVE
    else:
        assert fleet["alarm"].state == AlarmState.ACKNOWLEDGED


def test_acknowledge_goes_back_to_a_page_of_this_site(fleet: Any, web: Client) -> None:
    answer = web.post(f"/alarms/{fleet['alarm'].pk}/acknowledge/", {"next": "/alarms/?open=1"})
    assert answer["Location"] == "/alarms/?open=1"


def test_alarm_actions_on_unknown_ids_are_404(fleet: Any, web: Client) -> None:
    before = snapshot()
    for action in ("acknowledge", "clear"):
        assert web.post(f"/alarms/{HUGE_INT}/{action}/").status_code == 404
        assert web.get(f"/alarms/{fleet['alarm'].pk}/{action}/").status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize(("data", "says"), [
    ({"site": "abc"}, "site: Select a valid choice"),
    ({"tenant": HUGE_INT}, "tenant: Select a valid choice"),
    ({"site": "-1", "tenant": "1.5"}, "site: Select a valid choice"),
    ({"site": "\x00"}, "site: Null characters are not allowed"),
    ({"site": ["1", "x"]}, "site: Select a valid choice"),
])
def test_adopt_with_garbage_changes_nothing(fleet: Any, web: Client,
                                            data: dict[str, Any], says: str) -> None:
    before = snapshot()
    answer = web.post(f"/telemetry/unregistered/{fleet['unregistered'].pk}/adopt/", data)
    assert answer.status_code == 302
    page = text(web.get("/telemetry/unregistered/"))
    assert says in page
    assert snapshot() == before


def test_adopt_unknown_row_is_404(fleet: Any, web: Client) -> None:
    assert web.post(f"/telemetry/unregistered/{HUGE_INT}/adopt/").status_code == 404


def test_a_file_over_the_limit_says_both_sizes_exactly(fleet: Any, web: Client) -> None:
    """Found by hand (issue 7): a refused file read "the file is 20 MB; the limit is 20 MB"."""
    over = HEADER.encode() + b"x" * (MAX_IMPORT_BYTES + 1 - len(HEADER))
    page = text(upload(web, over))
    assert "the file is 20.1 MB; the limit is 20 MB" in page
    assert "/confirm/" not in page
    assert megabytes(int(20.3 * MB), up=True) == "20.3" and megabytes(MAX_IMPORT_BYTES,
                                                                      up=False) == "20"
    assert megabytes(MAX_IMPORT_BYTES + 1, up=True) != megabytes(MAX_IMPORT_BYTES, up=False)


def test_an_all_invalid_file_answers_with_the_first_problems_and_a_count(
        fleet: Any, web: Client, settings: Any, tmp_path: Path) -> None:
    """Found by hand (issue 7): an all-invalid file answered with a 53 MB error page."""
    settings.VAR_DIR = tmp_path
    before = snapshot()
    rows = "".join(f"9991025{n:06d},kpm37,mqtt,,,,,,,\n" for n in range(20_000))
    page = text(upload(web, (HEADER + rows).encode()))
    assert "20000 problems; the first 100 by line" in page
    assert "line 2, column code" in page and "line 101, column code" in page
    assert "line 102," not in page and "19900 more problems not shown" in page
    assert len(page) < 100_000
    assert snapshot() == before
    assert list((tmp_path / "imports").iterdir()) == []  # a refused file is not kept
