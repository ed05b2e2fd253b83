"""The import page (upload -> preview -> confirm -> done) and ``manage.py import_meters``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from meters.models import Meter
from tests.factories import GatewayFactory, SiteFactory, TenantFactory, meter_code

pytestmark = pytest.mark.django_db
HEADER = "code,profile,transport,gateway,address,site,tenant,labels,ct_ratio,pt_ratio\n"


def upload(client: Any, text: str) -> str:
    answer = client.post("/import/", {"file": SimpleUploadedFile("m.csv", text.encode())})
    assert answer.status_code == 200
    return str(answer.content.decode())


def test_upload_preview_confirm_done(operator: Any, client_as: Any, settings: Any,
                                     tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    GatewayFactory(name="bus-a")
    TenantFactory(name="T", site=SiteFactory(name="S"))  # an operator names, never creates them
    client = client_as(operator)
    preview = upload(client, HEADER + f"{meter_code(1)},kpm37,modbus,bus-a,1,S,T,x,1,1\n")
    assert "1 new meter" in preview and meter_code(1) in preview
    assert not Meter.objects.exists()
    action = re.search(r'action="(/import/[0-9a-f]{32}/confirm/)"', preview)
    assert action, preview
    done = client.post(action.group(1))
    assert "1 meter created" in done.content.decode()
    assert Meter.objects.filter(code=meter_code(1)).exists()
    assert client.post(action.group(1)).status_code == 404  # a token imports once


def test_bad_upload_lists_problems_and_offers_no_confirm(operator: Any, client_as: Any,
                                                         settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    page = upload(client_as(operator), HEADER + f"{meter_code(1)},kpm37,modbus,nobus,1,S,T,,1,1\n")
    assert "line 2, column gateway: unknown gateway" in page
    assert "/confirm/" not in page and not list(tmp_path.glob("imports/*.csv"))


def test_billing_cannot_import(billing_clerk: Any, client_as: Any) -> None:
    assert client_as(billing_clerk).get("/import/").status_code == 403


def test_command_imports_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    GatewayFactory(name="bus-a")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + f"{meter_code(1)},kpm37,modbus,bus-a,1,S,T,,1,1\n")
    call_command("import_meters", str(good), "--dry-run")
    assert "dry run" in capsys.readouterr().out and not Meter.objects.exists()
    call_command("import_meters", str(good))
    assert "1 created" in capsys.readouterr().out and Meter.objects.count() == 1


def test_command_fails_with_exit_code_1_listing_problems(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + f"{meter_code(1)},kpm37,modbus,nobus,1,S,T,,1,1\n"
                            f"{meter_code(2)},kpm37,modbus,nobus,999,S,T,,1,1\n")
    with pytest.raises(CommandError) as failure:
        call_command("import_meters", str(bad))
    assert failure.value.returncode == 1
    errors = capsys.readouterr().err
    assert "line 2, column gateway" in errors and "line 3, column address" in errors
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_meters", str(tmp_path / "missing.csv"))
