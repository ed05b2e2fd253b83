"""``manage.py meter``: read and write through jobs, wait, print the read-back or the reason."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from meters.jobs.models import MeterJob
from tests.jobs.conftest import SimBus


def _meter(*args: str) -> str:
    out = StringIO()
    call_command("meter", *args, stdout=out)
    return out.getvalue()


def test_read_and_write_from_the_command_line(bus: SimBus) -> None:
    code = bus.meters[3].code
    out = _meter("write", code, "ct_ratio=250", "billing_day=5", "--reason", "CT swap", "--here")
    assert "queued" in out and "ct_ratio = 250" in out and "billing_day = 5" in out
    assert "verified" in out and bus.sims[3].parameter("ct_ratio") == pytest.approx(250)

    out = _meter("read", code, "ct_ratio", "clock", "--here")
    assert "ct_ratio = 250" in out and "clock = 20" in out
    out = _meter("read", code, "--here")  # no names: the whole configuration
    assert "billing_day = 5" in out and "do1_output_mode" in out


def test_refusals_and_bad_values_are_errors_that_name_the_value(bus: SimBus, settings) -> None:
    code = bus.meters[7].code
    with pytest.raises(CommandError, match=r"values\.ct_ratio: .*above the maximum"):
        _meter("write", code, "ct_ratio=999999", "--reason", "x")
    with pytest.raises(CommandError, match="no meter with code"):
        _meter("read", "3070000000000")
    with pytest.raises(CommandError, match="expected NAME=VALUE"):
        _meter("write", code, "ct_ratio", "--reason", "x")
    assert not MeterJob.objects.exists()
    settings.METER_PASSWORD = 1
    with pytest.raises(CommandError, match=r"failed: .*Modbus exception 4"):
        _meter("write", code, "billing_day=3", "--reason", "x", "--here")


def test_no_wait_only_queues(bus: SimBus) -> None:
    out = _meter("read", bus.meters[3].code, "ct_ratio", "--no-wait")
    assert "queued" in out and MeterJob.objects.get().state == "queued"
