"""`manage.py demo` (what `make demo` runs): the whole platform on one machine, no servers needed.

Migrates the SQLite database under var/, sets up roles, seeds the simulated fleet, starts the
embedded MQTT broker, the simulator, a Celery worker and beat, the MQTT ingest and the web
server, prints the URL and the login, and stops everything on Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import os
import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from provisioning.demo.config import DemoConfig, DemoConfigError
from provisioning.demo.parts import busy_ports, control_hint, demo_parts
from provisioning.demo.seed import (
    DEMO_POLL_INTERVAL_S,
    DemoSeedError,
    FleetShape,
    demo_fleet_seed,
)
from provisioning.demo.supervisor import Supervisor


class StopDemo(Exception):
    """Raised from the signal handler so the stop path is the same for SIGINT and SIGTERM."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise StopDemo(signal.Signals(signum).name)


class Command(BaseCommand):
    help = ("Run the platform with a simulated fleet: FLEET_DEMO_PORT (default 8000) and "
            "FLEET_DEMO_PASSWORD (default: generated and printed) choose port and password.")

    def handle(self, *args: Any, **options: Any) -> None:
        config = self._config()
        self._prepare_database(config)
        supervisor = Supervisor(log_dir=settings.VAR_DIR / "log", env=self._child_env(config),
                                say=self._say)
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        try:
            self._start(supervisor, config)
            while True:
                time.sleep(1)
                supervisor.report_exits()
        except StopDemo as stop:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
            self.stdout.write(f"\n{stop}: stopping every part ...")
        finally:
            supervisor.stop_all()
        self.stdout.write("demo stopped; nothing left running.")

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _config(self) -> DemoConfig:
        try:
            config = DemoConfig.from_env()
        except DemoConfigError as exc:
            raise CommandError(str(exc)) from exc
        if busy := busy_ports(config):
            raise CommandError("cannot start the demo: " + "; ".join(busy))
        return config

    def _prepare_database(self, config: DemoConfig) -> None:
        self.stdout.write(f"database: {settings.DATABASES['default']['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        shape = FleetShape(gateways=config.gateways, meters_per_gateway=config.meters_per_gateway,
                           mqtt_meters=config.mqtt_meters, modbus_host="127.0.0.1",
                           modbus_port_base=config.modbus_port_base)
        try:
            summary = demo_fleet_seed(shape=shape, password=config.password)
        except DemoSeedError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"seeded: {summary.sites} sites, {summary.tenants} tenants, "
                          f"{summary.gateways} gateways, {summary.meters} meters; "
                          f"roles and users {', '.join(summary.users)}")

    def _child_env(self, config: DemoConfig) -> dict[str, str]:
        env = dict(os.environ)
        # The demo is a local development server: DEBUG serves static files without collectstatic.
        env.update(DEBUG="1", MQTT_URL=config.mqtt_url, PYTHONUNBUFFERED="1",
                   DJANGO_SETTINGS_MODULE="config.settings",
                   # meters imported into the demo are polled like the seeded ones
                   METER_DEFAULT_POLL_INTERVAL_S=str(DEMO_POLL_INTERVAL_S))
        return env

    def _start(self, supervisor: Supervisor, config: DemoConfig) -> None:
        self.stdout.write(f"starting the parts; logs go to {supervisor.log_dir}/")
        for part in demo_parts(config):
            supervisor.start(part)
        user_note = "generated password" if config.password_generated else "FLEET_DEMO_PASSWORD"
        self.stdout.write(
            f"\nKPM Fleet demo is running at {config.url}\n"
            f"  log in as admin / {config.password}   ({user_note}; users operator, billing "
            f"and viewer have the same password)\n"
            f"  simulated fleet: {config.gateways} Modbus gateways x {config.meters_per_gateway} "
            f"meters on ports {config.modbus_ports[0]}-{config.modbus_ports[-1]}, "
            f"{config.mqtt_meters} MQTT meters via {config.mqtt_url}\n"
            f"{control_hint(config)}\n"
            f"  Ctrl-C stops everything.")
