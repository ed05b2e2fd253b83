"""Modbus polling against simulated gateways on real sockets: storing, failures, claims, command."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from kpm37.profile import load_profile
from kpm37.simulator.gateway import SimGateway, start_gateway
from kpm37.simulator.meter import SimMeter
from meters.choices import MeterStatus
from meters.telemetry.models import GatewayClaim, LatestState, PollRun, PollState, Reading
from meters.telemetry.polling import PollError, gateway_poll, gateways_due
from meters.telemetry.tasks import poll_gateway
from tests.factories import GatewayFactory, MeterFactory
from tests.telemetry.background import LoopThread, wait_until

PROFILE = load_profile("kpm37")
ADDRESSES = (3, 7, 12)


@dataclass
class SimBus:
    """A simulated gateway (in a loop thread) and its inventory rows."""

    sim: SimGateway
    sims: dict[int, SimMeter]
    gateway: Any
    meters: dict[int, Any]


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def _sim_bus(loop: LoopThread, baud: int = 38400) -> SimBus:
    sims = {a: SimMeter(PROFILE, code=f"30710251000{a:02d}", address=a, seed=a)
            for a in ADDRESSES}
    for address, sim_meter in sims.items():
        sim_meter.set_load(voltage=220.0 + address)  # each meter tells itself apart
    host, port, sim = loop.run(start_gateway(list(sims.values()), baud=baud))
    gateway = GatewayFactory(host=host, port=port, timeout_ms=400, frame_gap_ms=20)
    meters = {a: MeterFactory(gateway=gateway, address=a, poll_interval_s=60) for a in ADDRESSES}
    return SimBus(sim, sims, gateway, meters)


@pytest.fixture
def bus(db: None, loop: LoopThread) -> Iterator[SimBus]:
    made = _sim_bus(loop)
    yield made
    loop.run(made.sim.stop())


def test_poll_stores_readings_like_mqtt_and_marks_meters_online(bus: SimBus) -> None:
    now = timezone.now()
    report = gateway_poll(gateway_id=bus.gateway.pk, now=now)

    assert report.claimed and not report.failed
    assert sorted(r.address for r in report.ok) == list(ADDRESSES)
    assert report.stored == 3
    for address, meter in bus.meters.items():
        reading = Reading.objects.get(meter=meter)
        # Stamped when its own read finished: after the cycle began, within its bus time.
        assert reading.source == "modbus" and now < reading.time < now + timedelta(seconds=30)
        assert reading.values["voltage_a"] == pytest.approx(220.0 + address, abs=0.2)
        latest = LatestState.objects.get(meter=meter).values
        assert latest["import_active_energy"]["value"] >= 0
        meter.refresh_from_db()
        assert meter.status == MeterStatus.ONLINE
        state = PollState.objects.get(meter=meter)
        assert state.next_poll_at == now + timedelta(seconds=60)
        assert (state.failures, state.last_error, state.last_ok_at) == (0, "", reading.time)
    run = PollRun.objects.get(pk=report.run_id)
    assert (run.meters_ok, run.meters_failed, run.finished_at is not None) == (3, 0, True)
    # The meter read last finished after the whole cycle's bus time, and says so.
    last = max(Reading.objects.values_list("time", flat=True))
    assert (last - now).total_seconds() >= 0.9 * bus.sim.busy_seconds > 0


def test_meters_not_due_are_left_alone_until_their_time(bus: SimBus) -> None:
    now = timezone.now()
    gateway_poll(gateway_id=bus.gateway.pk, now=now)
    frames = len(bus.sim.log)
    assert gateways_due(now=now + timedelta(seconds=30)) == []

    again = gateway_poll(gateway_id=bus.gateway.pk, now=now + timedelta(seconds=30))
    assert again.results == [] and again.note == "no meter due"
    assert len(bus.sim.log) == frames
    assert gateways_due(now=now + timedelta(seconds=61)) == [bus.gateway.pk]


def test_a_silent_meter_times_out_backs_off_and_does_not_stop_the_others(bus: SimBus) -> None:
    bus.sims[7].faults.silent = True
    now = timezone.now()
    report = gateway_poll(gateway_id=bus.gateway.pk, now=now)

    [failed] = report.failed
    assert (failed.address, failed.error) == (7, "DeviceTimeout")
    assert "no answer" in failed.message
    assert sorted(r.address for r in report.ok) == [3, 12]
    assert Reading.objects.filter(meter__in=[bus.meters[3], bus.meters[12]]).count() == 2
    assert not Reading.objects.filter(meter=bus.meters[7]).exists()
    # One timeout for the dead meter, not one per planned frame.
    assert sum(1 for r in bus.sim.log if r.unit == 7) == 1
    state = PollState.objects.get(meter=bus.meters[7])
    assert state.failures == 1 and state.last_error.startswith("DeviceTimeout")
    assert state.next_poll_at == now + timedelta(seconds=120)  # twice the interval

    later = now + timedelta(seconds=121)
    gateway_poll(gateway_id=bus.gateway.pk, now=later)
    state.refresh_from_db()
    assert state.failures == 2 and state.next_poll_at == later + timedelta(seconds=240)

    bus.sims[7].faults.silent = False
    back = later + timedelta(seconds=241)
    assert gateway_poll(gateway_id=bus.gateway.pk, now=back).failed == []
    state.refresh_from_db()
    assert (state.failures, state.last_error) == (0, "")


def test_a_held_claim_refuses_a_second_poller_without_touching_the_bus(bus: SimBus) -> None:
    GatewayClaim.objects.create(gateway=bus.gateway, claimed_by="other",
                                busy_until=timezone.now() + timedelta(seconds=30))
    report = gateway_poll(gateway_id=bus.gateway.pk)
    assert not report.claimed and report.note == "already claimed by another poller"
    assert bus.sim.log == []
    assert not PollRun.objects.exists()
    assert gateways_due(now=timezone.now()) == []


@pytest.mark.services
def test_a_redis_lease_held_elsewhere_refuses_the_poll_and_frees_the_db_claim(
        bus: SimBus, settings: Any) -> None:
    import redis

    from kpm37.lease import GatewayLease
    from tests.services import redis_url

    settings.REDIS_URL = redis_url()
    settings.POLL_LEASE_PREFIX = f"test:poll:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(settings.REDIS_URL)
    other = GatewayLease(client, bus.gateway.name, prefix=settings.POLL_LEASE_PREFIX)
    try:
        assert other.acquire() == 1
        refused = gateway_poll(gateway_id=bus.gateway.pk)
        assert not refused.claimed and "leased by another poller" in refused.note
        assert bus.sim.log == [] and GatewayClaim.objects.get().claimed_by == ""
        other.release()
        report = gateway_poll(gateway_id=bus.gateway.pk)
        assert report.claimed and report.fence == 2 and len(report.ok) == 3
        assert PollRun.objects.get().fence == 2
    finally:
        client.delete(other.owner_key, other.fence_key)
        client.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_of_one_gateway_one_wins_the_other_stays_off_the_bus(
        loop: LoopThread) -> None:
    made = _sim_bus(loop, baud=9600)  # slow bus: the first cycle lasts a few seconds
    outcome: list[Any] = []

    def first() -> None:
        try:
            outcome.append(gateway_poll(gateway_id=made.gateway.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert wait_until(lambda: bool(made.sim.log), 15)
        second = gateway_poll(gateway_id=made.gateway.pk)
    finally:
        thread.join(timeout=30)
        loop.run(made.sim.stop())
    assert not second.claimed and "already claimed" in second.note
    assert outcome[0].claimed and len(outcome[0].ok) == 3
    assert {r.connection for r in made.sim.log} == {1}  # only the winner's connection
    claim = GatewayClaim.objects.get(gateway=made.gateway)
    assert claim.claimed_by == "" and claim.busy_until <= timezone.now()


def test_unpollable_gateways_are_refused_with_the_reason(db: None) -> None:
    dial_in = GatewayFactory(kind="dial-in", host="", port=5999)
    with pytest.raises(PollError, match="kind dial-in is not polled"):
        gateway_poll(gateway_id=dial_in.pk)
    with pytest.raises(PollError, match="no gateway with id 0"):
        gateway_poll(gateway_id=0)
    off = GatewayFactory(enabled=False)
    with pytest.raises(PollError, match="disabled"):
        gateway_poll(gateway_id=off.pk)


def test_an_unreachable_gateway_fails_each_meter_with_a_connection_error(db: None) -> None:
    gateway = GatewayFactory(host="127.0.0.1", port=1, timeout_ms=300)
    meter = MeterFactory(gateway=gateway, address=1)
    report = gateway_poll(gateway_id=gateway.pk)
    assert [(r.code, r.error) for r in report.failed] == [(meter.code, "ConnectionLost")]


def test_mqtt_meters_are_never_polled(db: None) -> None:
    MeterFactory(mqtt=True)
    assert gateways_due(now=timezone.now()) == []


# --- the task ---------------------------------------------------------------------------------

def test_poll_gateway_task_reports_what_it_read(bus: SimBus) -> None:
    bus.sims[3].faults.silent = True
    outcome = poll_gateway(bus.gateway.pk)
    assert outcome["claimed"] and outcome["ok"] == 2 and outcome["stored"] == 2
    assert list(outcome["failed"]) == [bus.meters[3].code]
    assert outcome["failed"][bus.meters[3].code].startswith("DeviceTimeout")
    assert PollRun.objects.get().meters_failed == 1


def test_poll_gateway_task_returns_quietly_for_a_deleted_gateway(db: None) -> None:
    outcome = poll_gateway(123456)
    assert outcome == {"gateway_id": 123456, "claimed": False,
                       "note": "gateway_id: no gateway with id 123456"}


# --- the command ------------------------------------------------------------------------------

def _run(*args: str) -> tuple[str, str, int]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("poll", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def test_poll_command_prints_key_values_and_ignores_the_schedule(bus: SimBus) -> None:
    PollState.objects.bulk_create([PollState(meter=m, next_poll_at=timezone.now()
                                             + timedelta(hours=1)) for m in bus.meters.values()])
    out, _, code = _run("--gateway", bus.gateway.name)
    assert code == 0
    assert f"gateway {bus.gateway.name} (modbus-tcp" in out and "polling 3 meter(s)" in out
    line = next(x for x in out.splitlines() if bus.meters[7].code in x)
    assert " ok " in line and "Ua " in line and " V" in line and "import " in line and "kWh" in line
    assert "3 ok, 0 failed, 3 reading(s) stored" in out
    assert Reading.objects.count() == 3


def test_poll_command_reports_a_failed_meter_with_exit_code_1(bus: SimBus) -> None:
    bus.sims[12].faults.silent = True
    out, err, code = _run("--meter", bus.meters[12].code)
    assert code == 1
    assert "polling 1 meter(s)" in out and "FAILED DeviceTimeout" in out
    assert "1 meter(s) or gateway(s) failed" in err
    assert {r.unit for r in bus.sim.log} == {12}


def test_poll_command_names_unknown_gateways_and_meters(db: None) -> None:
    assert _run() == ("no enabled gateway has Modbus meters: nothing to poll\n", "", 0)
    with pytest.raises(CommandError, match="--gateway: no gateway named 'nope'"):
        call_command("poll", "--gateway", "nope")
    with pytest.raises(CommandError, match="--meter: no Modbus meter with code '123'"):
        call_command("poll", "--meter", "123")
