"""Meter jobs over Modbus against the simulator: reads, verified writes, refusals, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from meters.jobs.choices import JobState, Priority
from meters.jobs.evidence import evidence_sha256
from meters.jobs.lifecycle import jobs_sweep
from meters.jobs.models import MeterJob, ReportedState
from meters.jobs.services import job_cancel, job_submit
from tests.jobs.conftest import SimBus


def _reload(job: MeterJob) -> MeterJob:
    job.refresh_from_db()
    return job


def test_read_job_reads_values_keeps_evidence_and_reports_them(bus: SimBus, operator) -> None:
    bus.sims[3].set_parameter("ct_ratio", 40.0)
    job = job_submit(meter=bus.meters[3], kind="read", payload={"names": ["ct_ratio", "clock"]},
                     requested_by=operator, reason="check wiring")
    bus.run_jobs()
    job = _reload(job)

    assert job.state == JobState.VERIFIED, job.failure
    assert job.result["values"]["ct_ratio"] == pytest.approx(40.0)
    assert job.meter_clock and job.meter_clock == job.result["values"]["clock"][:19]
    assert job.requested_by_name == "operator" and job.attempts == 1
    exchanges = job.evidence["exchanges"]
    assert exchanges and all(e["request"].startswith("03") for e in exchanges)
    assert all(e["reply"].startswith("03") for e in exchanges)
    assert job.evidence["gateway"] == bus.gateway.name and job.transport == "modbus-tcp"
    assert job.evidence_sha256 == evidence_sha256(job.evidence)
    reported = ReportedState.objects.get(meter=bus.meters[3]).values
    assert reported["ct_ratio"]["value"] == pytest.approx(40.0)
    assert reported["ct_ratio"]["job"] == job.pk and reported["ct_ratio"]["time"]


def test_write_is_verified_by_read_back_and_becomes_reported_state(bus: SimBus) -> None:
    job = job_submit(meter=bus.meters[7], kind="write",
                     payload={"values": {"ct_ratio": 150.0, "billing_day": 12}}, reason="swap CT")
    bus.run_jobs()
    job = _reload(job)

    assert job.state == JobState.VERIFIED, job.failure
    assert bus.sims[7].parameter("ct_ratio") == pytest.approx(150.0)
    assert bus.sims[7].parameter("billing_day") == 12
    assert job.result["values"] == {"ct_ratio": pytest.approx(150.0), "billing_day": 12}
    # The password went out first, masked in the evidence; the frame after it carries the value.
    writes = [e["request"] for e in job.evidence["exchanges"] if e["request"].startswith("10")]
    assert writes[0] == "100000000102****"  # FC16 @0000 x1, 2 bytes, masked
    reported = ReportedState.objects.get(meter=bus.meters[7]).values
    assert reported["billing_day"]["value"] == 12


def test_a_write_the_meter_refuses_fails_with_its_reason_and_changes_nothing(
        bus: SimBus, settings) -> None:
    settings.METER_PASSWORD = 1234  # not the meter's: it answers exception 4
    before = bus.sims[7].parameter("ct_ratio")
    job = job_submit(meter=bus.meters[7], kind="write", payload={"values": {"ct_ratio": 300}})
    bus.run_jobs()
    job = _reload(job)

    assert job.state == JobState.FAILED
    assert "Modbus exception 4 (server device failure)" in job.failure
    assert job.failed_value in ("password", "ct_ratio")
    assert bus.sims[7].parameter("ct_ratio") == before
    assert not ReportedState.objects.filter(meter=bus.meters[7]).exists()


@pytest.mark.parametrize(("payload", "field", "words"), [
    ({"values": {"ct_ratio": -5}}, "values.ct_ratio", "below the minimum"),
    ({"values": {"ct_ratio": "a lot"}}, "values.ct_ratio", "expected a number"),
    ({"values": {"voltage_a": 230}}, "values.voltage_a", "not a setting"),
    ({"values": {"no_such": 1}}, "values.no_such", "no value named"),
    ({"values": {"billing_day": 31}}, "values.billing_day", "above the maximum"),
    ({"values": {}}, "values", "must be an object"),
    ({"values": {"password": 1}}, "values.password", "password"),
])
def test_bad_values_are_refused_before_a_job_exists(bus: SimBus, payload, field, words) -> None:
    with pytest.raises(ValidationError) as caught:
        job_submit(meter=bus.meters[3], kind="write", payload=payload)
    assert words in caught.value.message_dict[field][0]
    assert not MeterJob.objects.exists()


def test_an_unknown_kind_or_mqtt_only_kind_is_refused(bus: SimBus) -> None:
    with pytest.raises(ValidationError) as caught:
        job_submit(meter=bus.meters[3], kind="levitate")
    assert "not a job kind" in caught.value.message_dict["kind"][0]
    with pytest.raises(ValidationError) as caught:
        job_submit(meter=bus.meters[3], kind="upload_interval", payload={"level": "second"})
    assert "not available for modbus" in caught.value.message_dict["kind"][0]


def test_the_same_idempotency_key_answers_with_the_same_job(bus: SimBus) -> None:
    first = job_submit(meter=bus.meters[3], kind="read", payload={"names": ["ct_ratio"]},
                       idempotency_key="ticket-42")
    again = job_submit(meter=bus.meters[3], kind="read", payload={"names": ["ct_ratio"]},
                       idempotency_key="ticket-42")
    assert again.pk == first.pk and MeterJob.objects.count() == 1
    with pytest.raises(ValidationError):
        job_submit(meter=bus.meters[7], kind="read", idempotency_key="ticket-42")


def test_a_silent_meter_sends_the_job_back_to_the_queue_then_it_expires(bus: SimBus) -> None:
    bus.sims[12].faults.silent = True
    job = job_submit(meter=bus.meters[12], kind="read", payload={"names": ["ct_ratio"]})
    bus.run_jobs()
    job = _reload(job)
    assert job.state == JobState.QUEUED and job.attempts == 1
    assert "timed out" in job.last_error and job.not_before > timezone.now()

    report = jobs_sweep(now=job.expires_at + timedelta(seconds=1))
    job = _reload(job)
    assert report.expired == 1 and job.state == JobState.EXPIRED
    assert job.failure.startswith("expired at") and "timed out" in job.failure


def test_a_queued_job_can_be_cancelled_and_then_never_runs(bus: SimBus, operator) -> None:
    job = job_submit(meter=bus.meters[3], kind="write", payload={"values": {"billing_day": 3}})
    job_cancel(job=job, by=operator, reason="wrong meter")
    bus.run_jobs()
    job = _reload(job)
    assert job.state == JobState.CANCELLED and "wrong meter" in job.failure
    assert bus.sims[3].parameter("billing_day") != 3
    with pytest.raises(ValidationError):
        job_cancel(job=job)


def test_relay_close_and_open_are_verified_and_mode_mismatches_refused(bus: SimBus) -> None:
    pulse_close = job_submit(meter=bus.meters[3], kind="relay",
                             payload={"output": 1, "action": "close"})
    assert pulse_close.priority == Priority.RELAY
    bus.run_jobs()
    assert "pulse mode" in _reload(pulse_close).failure
    assert not bus.sims[3].relay("do1")

    job_submit(meter=bus.meters[3], kind="write", payload={"values": {"do1_output_mode": 0}})
    bus.run_jobs()
    close = job_submit(meter=bus.meters[3], kind="relay", payload={"output": 1, "action": "close"})
    bus.run_jobs()
    assert _reload(close).state == JobState.VERIFIED, close.failure
    assert bus.sims[3].relay("do1") and close.result["values"]["do1"] is True

    bus.sims[3].set_parameter("do1_control_mode", 1)
    refused = job_submit(meter=bus.meters[3], kind="relay", payload={"output": 1, "action": "open"})
    bus.run_jobs()
    assert "alarm mode" in _reload(refused).failure
    assert not [e for e in refused.evidence["exchanges"] if e["request"].startswith("05")]


def test_set_clock_sets_the_site_local_time_and_reads_it_back(bus: SimBus) -> None:
    job = job_submit(meter=bus.meters[3], kind="set_clock", payload={"time": "2026-03-01T08:30:00"})
    bus.run_jobs()
    job = _reload(job)
    assert job.state == JobState.VERIFIED, job.failure
    assert job.meter_clock.startswith("2026-03-01T08:30")
    assert bus.sims[3].clock.now_local().strftime("%Y-%m-%d %H:%M") == "2026-03-01 08:30"

    now_job = job_submit(meter=bus.meters[7], kind="set_clock")  # the site's local time now
    bus.run_jobs()
    assert _reload(now_job).state == JobState.VERIFIED, now_job.failure


def test_another_app_adds_a_kind_through_the_registry(bus: SimBus) -> None:
    from meters.jobs.builtin_kinds import write_and_verify
    from meters.jobs.kinds import JobKind, PayloadInvalid, register_kind

    class BillingDay(JobKind):
        name = "test_billing_day"
        label = "Set billing day"

        def validate(self, *, profile, payload, transport):
            if payload.get("day") not in range(1, 29):
                raise PayloadInvalid("day", "must be 1-28")
            return {"day": payload["day"]}

        async def run(self, ctx):
            got = await write_and_verify(ctx, {"billing_day": ctx.payload["day"]})
            return {"values": got}

    register_kind(BillingDay())
    with pytest.raises(ValidationError):
        job_submit(meter=bus.meters[3], kind="test_billing_day", payload={"day": 40})
    job = job_submit(meter=bus.meters[3], kind="test_billing_day", payload={"day": 9})
    bus.run_jobs()
    assert _reload(job).state == JobState.VERIFIED and bus.sims[3].parameter("billing_day") == 9


def test_a_job_no_owner_could_run_is_refused(bus: SimBus) -> None:
    bus.gateway.enabled = False
    bus.gateway.save()
    with pytest.raises(ValidationError) as caught:
        job_submit(meter=bus.meters[3], kind="read")
    assert "is disabled" in caught.value.message_dict["meter"][0]


def test_kinds_and_listeners_hear_of_every_final_job(
        bus: SimBus, django_capture_on_commit_callbacks) -> None:
    from meters.jobs.kinds import _LISTENERS, register_job_listener

    heard: list[tuple[int, str]] = []
    register_job_listener(lambda job: heard.append((job.pk, job.state)))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            good = job_submit(meter=bus.meters[3], kind="read", payload={"names": ["ct_ratio"]})
            gone = job_submit(meter=bus.meters[7], kind="read", payload={"names": ["ct_ratio"]})
        with django_capture_on_commit_callbacks(execute=True):
            job_cancel(job=gone)
        with django_capture_on_commit_callbacks(execute=True):
            bus.run_jobs()
    finally:
        _LISTENERS.pop()
    assert sorted(heard) == sorted([(gone.pk, "cancelled"), (good.pk, "verified")])
