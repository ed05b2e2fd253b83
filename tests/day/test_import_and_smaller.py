"""The import takes a site's time zone and a poll interval; the page says what each column takes
and offers a template; alarms pages keep their filter and say how an alarm was cleared; the
admin never lets a person type a meter's status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from meters.alarms.models import Alarm
from meters.alarms.services import alarm_resolve
from meters.models import Meter, Site
from tests.factories import GatewayFactory, MeterFactory, SiteFactory, meter_code

pytestmark = pytest.mark.django_db


def _upload(client: Any, text: str) -> str:
    answer = client.post("/import/", {"file": SimpleUploadedFile("m.csv", text.encode())})
    assert answer.status_code == 200
    return str(answer.content.decode())


def test_template_csv_imports_with_zones_and_intervals(admin: Any, client_as: Any,
                                                       settings: Any, tmp_path: Path) -> None:
    # The file names sites and tenants that do not exist: only a role that may create them
    # (admin) imports it; an operator is refused (tests/test_role_consistency.py).
    settings.VAR_DIR = tmp_path
    GatewayFactory(name="gw-north")
    client = client_as(admin)
    page = client.get("/import/").content.decode()
    assert "<code>kpm37</code>" in page and "<code>mqtt</code>" in page and "timezone" in page
    template = client.get("/import/template.csv")
    assert template["Content-Type"].startswith("text/csv")
    preview = _upload(client, template.content.decode())
    assert "2 rows: 2 new meters" in preview and "Europe/Vienna" in preview
    action = re.search(r'action="(/import/[0-9a-f]{32}/confirm/)"', preview)
    assert action, preview
    assert "2 meters created" in client.post(action.group(1)).content.decode()
    assert Site.objects.get(name="Vienna plant").timezone == "Europe/Vienna"
    assert Site.objects.get(name="Shanghai office").timezone == "Asia/Shanghai"
    intervals = dict(Meter.objects.values_list("site__name", "poll_interval_s"))
    assert intervals == {"Vienna plant": 60, "Shanghai office": 300}


def test_default_interval_follows_the_setting(admin: Any, client_as: Any, settings: Any,
                                              tmp_path: Path) -> None:
    # The file names sites and tenants that do not exist: only a role that may create them
    # (admin) imports it; an operator is refused (tests/test_role_consistency.py).
    settings.VAR_DIR, settings.METER_DEFAULT_POLL_INTERVAL_S = tmp_path, 60
    header = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio\n"
    client = client_as(admin)
    preview = _upload(client, header + f"{meter_code(7)},kpm37,mqtt,,,S,T,,1,1\n")
    action = re.search(r'action="(/import/[0-9a-f]{32}/confirm/)"', preview)
    assert action
    client.post(action.group(1))
    assert Meter.objects.get(code=meter_code(7)).poll_interval_s == 60


def test_unknown_zone_and_bad_interval_are_refused_by_name(admin: Any, client_as: Any,
                                                           settings: Any,
                                                           tmp_path: Path) -> None:
    # The file names sites and tenants that do not exist: only a role that may create them
    # (admin) imports it; an operator is refused (tests/test_role_consistency.py).
    settings.VAR_DIR = tmp_path
    SiteFactory(name="Old", timezone="Europe/Vienna")
    header = ("code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio,"
              "poll_interval_s,timezone\n")
    rows = [f"{meter_code(1)},kpm37,mqtt,,,New,T,,1,1,60,Mars/Olympus",
            f"{meter_code(2)},kpm37,mqtt,,,New2,T,,1,1,5,",
            f"{meter_code(3)},kpm37,mqtt,,,Old,T,,1,1,,Asia/Shanghai",
            f"{meter_code(4)},kpm37,mqtt,,,Fine,T,,1,1,,"]
    page = _upload(client_as(admin), header + "\n".join(rows) + "\n")
    assert "line 2, column timezone: unknown time zone &#x27;Mars/Olympus&#x27;" in page
    assert "line 3, column poll_interval_s: must be whole seconds 10-86400" in page
    assert "line 4, column timezone: site &#x27;Old&#x27; is in Europe/Vienna" in page
    assert "4 rows read, 3 with problems: nothing will be imported" in page
    assert "new meters" not in page and not Meter.objects.exists()


def test_site_api_refuses_an_unknown_zone_naming_it(admin: Any, api_client_as: Any) -> None:
    answer = api_client_as(admin).post("/api/sites/", {"name": "X", "timezone": "Mars/Base"},
                                       format="json")
    assert answer.status_code == 400 and "Mars/Base" in str(answer.json()["timezone"])


def test_clear_keeps_the_filter_and_automatic_clears_say_so(operator: Any,
                                                            client_as: Any) -> None:
    meter = MeterFactory()
    now = timezone.now()
    manual = Alarm.objects.create(kind="over-voltage", source="meter", severity="major",
                                  meter=meter, first_seen_at=now, last_seen_at=now)
    auto = Alarm.objects.create(kind="offline", source="platform", severity="critical",
                                meter=meter, first_seen_at=now, last_seen_at=now)
    alarm_resolve(meter_id=meter.pk, kind="offline")
    client = client_as(operator)
    url = f"/alarms/?meter={meter.code}"
    listed = client.get(url).content.decode()
    clear_form = re.search(rf'action="/alarms/{manual.pk}/clear/">.*?</form>', listed)
    assert clear_form and f'name="next" value="/alarms/?meter={meter.code}"' in clear_form[0]
    answer = client.post(f"/alarms/{manual.pk}/clear/", {"next": url})
    assert answer.status_code == 302 and answer["Location"] == url
    page = client.get(url).content.decode()
    assert "by operator" in page and "automatically: the condition ended" in page
    auto.refresh_from_db()
    assert auto.cleared_by is None


def test_admin_shows_status_and_last_seen_read_only(admin: Any, client_as: Any) -> None:
    meter = MeterFactory(status="online")
    page = client_as(admin).get(f"/admin/meters/meter/{meter.pk}/change/").content.decode()
    assert 'name="status"' not in page and 'name="last_seen_at' not in page
    assert "Online" in page


def test_site_form_takes_a_zone_and_refuses_an_unknown_one(admin: Any, client_as: Any) -> None:
    client = client_as(admin)
    bad = client.post("/admin/meters/site/add/", {"name": "Depot", "timezone": "Mars/Base",
                                                  "address": ""})
    assert "unknown time zone &#x27;Mars/Base&#x27;" in bad.content.decode()
    assert not Site.objects.filter(name="Depot").exists()
    client.post("/admin/meters/site/add/", {"name": "Depot", "timezone": "America/Chicago",
                                            "address": ""})
    assert Site.objects.get(name="Depot").timezone == "America/Chicago"
