"""`manage.py seed_demo`: create or update the simulated demo fleet and its users."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning.demo.config import DemoConfig, DemoConfigError
from provisioning.demo.seed import DemoSeedError, FleetShape, demo_fleet_seed


class Command(BaseCommand):
    help = ("Create or update the demo inventory (sites, tenants, labels, gateways on the "
            "simulator's ports, meters with the simulator's codes) and one user per role.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gateways", type=int, help="simulated Modbus gateways")
        parser.add_argument("--meters-per-gateway", type=int, help="meters on each gateway")
        parser.add_argument("--mqtt-meters", type=int, help="simulated MQTT (WiFi) meters")
        parser.add_argument("--modbus-port-base", type=int,
                            help="TCP port of the first simulated gateway (then +1, +2, ...)")
        parser.add_argument("--password", help="password of every demo user "
                            "(default FLEET_DEMO_PASSWORD, else a generated one, printed)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = DemoConfig.from_env()
        except DemoConfigError as exc:
            raise CommandError(str(exc)) from exc
        shape = FleetShape(
            gateways=_positive(options, "gateways", config.gateways),
            meters_per_gateway=_positive(options, "meters_per_gateway", config.meters_per_gateway,
                                         high=247),
            mqtt_meters=_positive(options, "mqtt_meters", config.mqtt_meters, low=0),
            modbus_host="127.0.0.1",
            modbus_port_base=_positive(options, "modbus_port_base", config.modbus_port_base,
                                       high=65000))
        password = options["password"] or config.password
        try:
            summary = demo_fleet_seed(shape=shape, password=password)
        except DemoSeedError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"demo fleet: {summary.sites} sites, {summary.tenants} tenants, "
                          f"{summary.gateways} gateways, {summary.meters} meters")
        self.stdout.write(f"users {', '.join(summary.users)} with password: {password}")


def _positive(options: dict[str, Any], name: str, default: int, *, low: int = 1,
              high: int = 10_000) -> int:
    value = options[name]
    if value is None:
        return default
    if not low <= value <= high:
        raise CommandError(f"--{name.replace('_', '-')}: {value} is not between {low} and {high}")
    return int(value)
