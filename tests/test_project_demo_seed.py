"""The demo seeder: a fleet matching the simulator's codes and ports, one user per role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from kpm37.simulator.codes import modbus_meter_code, mqtt_meter_code
from meters import roles
from meters.models import Gateway, Meter, Site
from provisioning.demo.config import DemoConfig, DemoConfigError
from provisioning.demo.seed import DemoSeedError, FleetShape, demo_fleet_seed

SHAPE = FleetShape(gateways=2, meters_per_gateway=3, mqtt_meters=2, modbus_host="127.0.0.1",
                   modbus_port_base=15500)


@pytest.mark.django_db
def test_seed_builds_the_fleet_the_simulator_serves() -> None:
    summary = demo_fleet_seed(shape=SHAPE, password="s3cret-demo")
    assert (summary.gateways, summary.meters) == (2, 8)
    gateway = Gateway.objects.get(name="demo-gw-2")
    assert (gateway.host, gateway.port, gateway.kind) == ("127.0.0.1", 15501, "modbus-tcp")
    meter = Meter.objects.get(gateway=gateway, address=3)
    assert meter.code == modbus_meter_code(1, 3, 3)
    assert meter.site == gateway.site and meter.tenant is not None
    assert meter.labels.count() == 1
    mqtt = Meter.objects.get(code=mqtt_meter_code(1))
    assert mqtt.transport == "mqtt" and mqtt.gateway is None


@pytest.mark.django_db
def test_sites_carry_real_time_zones() -> None:
    demo_fleet_seed(shape=SHAPE, password="pw-123456")
    zones = set(Site.objects.values_list("timezone", flat=True))
    assert {"Europe/Vienna", "Asia/Shanghai"} <= zones


@pytest.mark.django_db
def test_one_user_per_role_with_the_given_password() -> None:
    demo_fleet_seed(shape=SHAPE, password="s3cret-demo")
    expected = {"admin": roles.ADMIN, "operator": roles.OPERATOR, "billing": roles.BILLING,
                "viewer": roles.TENANT_VIEWER}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password("s3cret-demo")
        assert list(user.groups.values_list("name", flat=True)) == [role]
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="viewer").viewable_tenants.count() == 1


@pytest.mark.django_db
def test_seeding_again_updates_instead_of_adding() -> None:
    demo_fleet_seed(shape=SHAPE, password="first-pass")
    moved = FleetShape(**{**SHAPE.__dict__, "modbus_port_base": 16000})
    demo_fleet_seed(shape=moved, password="second-pass")
    assert Meter.objects.count() == 8 and Gateway.objects.count() == 2
    assert Gateway.objects.get(name="demo-gw-1").port == 16000
    assert User.objects.get(username="admin").check_password("second-pass")


@pytest.mark.django_db
def test_seeding_a_differently_shaped_fleet_says_what_to_do() -> None:
    demo_fleet_seed(shape=SHAPE, password="pw-123456")
    reshaped = FleetShape(**{**SHAPE.__dict__, "meters_per_gateway": 2})
    with pytest.raises(DemoSeedError, match=r"address 1 already holds meter .*delete var/"):
        demo_fleet_seed(shape=reshaped, password="pw-123456")


@pytest.mark.django_db
def test_seed_demo_command_prints_summary_and_password(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo", "--gateways", "1", "--meters-per-gateway", "2", "--mqtt-meters",
                 "0", "--password", "cmd-pass-1")
    out = capsys.readouterr().out
    assert "1 gateways, 2 meters" in out and "cmd-pass-1" in out


@pytest.mark.django_db
def test_seed_demo_command_names_a_bad_option() -> None:
    with pytest.raises(CommandError, match="--meters-per-gateway: 300 is not between 1 and 247"):
        call_command("seed_demo", "--meters-per-gateway", "300")


def test_demo_config_names_the_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_DEMO_PORT", "eighty")
    with pytest.raises(DemoConfigError, match="FLEET_DEMO_PORT='eighty': not a whole number"):
        DemoConfig.from_env()
    monkeypatch.setenv("FLEET_DEMO_PORT", "70000")
    with pytest.raises(DemoConfigError, match="FLEET_DEMO_PORT=70000: must be between"):
        DemoConfig.from_env()


def test_demo_password_is_generated_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEET_DEMO_PASSWORD", raising=False)
    first, second = DemoConfig.from_env(), DemoConfig.from_env()
    assert first.password_generated and len(first.password) >= 12
    assert first.password != second.password
    monkeypatch.setenv("FLEET_DEMO_PASSWORD", "chosen-one")
    chosen = DemoConfig.from_env()
    assert chosen.password == "chosen-one" and not chosen.password_generated
