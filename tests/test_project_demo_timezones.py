"""The demo's simulator runs every meter's clock in the time zone of the site it is seeded in.

A meter whose clock is an hour off bills energy to the wrong tariff rate and raises a clock-off
alarm, so the seeder and the simulator must agree on which meter sits where."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kpm37.simulator.__main__ import build_parser, config_from
from kpm37.simulator.fleet import SimulatedFleet
from meters.models import Meter
from provisioning.demo.config import DemoConfig
from provisioning.demo.parts import _simulator_argv
from provisioning.demo.seed import FleetShape, demo_fleet_seed


@pytest.mark.django_db
def test_every_seeded_meter_clock_runs_in_its_site_time_zone(unused_tcp_port_base: int) -> None:
    demo = DemoConfig(modbus_port_base=unused_tcp_port_base, mqtt_port=unused_tcp_port_base - 1,
                      gateways=3, meters_per_gateway=2,
                      mqtt_meters=4, control_port=0)
    demo_fleet_seed(shape=FleetShape(gateways=3, meters_per_gateway=2, mqtt_meters=4,
                                     modbus_host="127.0.0.1",
                                     modbus_port_base=unused_tcp_port_base),
                    password="tz-test-pass")
    argv = _simulator_argv(demo)
    config = config_from(build_parser().parse_args(argv[argv.index("kpm37.simulator") + 1:]))
    clocks = asyncio.run(meter_clocks(config))
    meters = Meter.objects.select_related("site")
    assert {m.code for m in meters} == set(clocks)
    now = datetime.now(UTC)
    for meter in meters:
        site_local = now.astimezone(ZoneInfo(meter.site.timezone)).replace(tzinfo=None)
        assert abs(clocks[meter.code] - site_local) < timedelta(minutes=2), meter.code


async def meter_clocks(config: object) -> dict[str, datetime]:
    async with SimulatedFleet(config) as fleet:  # type: ignore[arg-type]
        return {m.code: m.clock.now_local() for m in [*fleet.meters, *fleet.mqtt_meters]}


@pytest.fixture
def unused_tcp_port_base() -> int:
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base < 64000:
            return base
    raise RuntimeError("no free port")
