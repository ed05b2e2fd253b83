"""The demo's parts: embedded MQTT broker, simulator, Celery worker and beat, MQTT ingest, web.

A part whose module or command is not in this checkout yet is listed with the reason and
skipped, so the demo runs with what exists.
"""

from __future__ import annotations

import importlib.util
import sys

from django.core.management import get_commands

from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.control import CONTROL_PORT_ENV, DEFAULT_CONTROL_PORT
from provisioning.demo.config import DemoConfig
from provisioning.demo.seed import SITES
from provisioning.demo.supervisor import (
    Part,
    alive_for,
    log_ready,
    port_free,
    port_ready,
    ports_ready,
)

PYTHON = sys.executable


def _module_missing(module: str) -> str:
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    return "" if found else f"module {module} is not in this checkout yet"


def _command_missing(command: str) -> str:
    return "" if command in get_commands() else f"command `manage.py {command}` is not here yet"


def _manage(*args: str) -> list[str]:
    return [PYTHON, "manage.py", *args]


def demo_parts(config: DemoConfig) -> list[Part]:
    """Every part in start order: what the web and workers need is up before them."""
    return [
        Part("mqtt-broker", [PYTHON, "-m", "kpm37.broker", "--port", str(config.mqtt_port)],
             port_ready(config.mqtt_port), 20, _module_missing("kpm37.broker")),
        Part("simulator", _simulator_argv(config),
             ports_ready([*config.modbus_ports, config.control_port]),
             30, _module_missing("kpm37.simulator.__main__")),
        Part("celery-worker", [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "INFO",
                               "--concurrency", "2", "-n", "demo-worker@%h"],
             log_ready(" ready."), 60),
        Part("celery-beat", [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "INFO"],
             log_ready("beat: Starting"), 60),
        Part("mqtt-ingest", _manage("ingest_mqtt", "--protocol", "3"), alive_for(4), 20,
             _command_missing("ingest_mqtt")),
        Part("web", _manage("runserver", "--noreload", f"127.0.0.1:{config.web_port}"),
             port_ready(config.web_port), 60),
    ]


def _simulator_argv(config: DemoConfig) -> list[str]:
    return [PYTHON, "-m", "kpm37.simulator",
            "--gateways", str(config.gateways),
            "--meters-per-gateway", str(config.meters_per_gateway),
            "--modbus-port-base", str(config.modbus_port_base),
            "--mqtt-url", config.mqtt_url,
            "--mqtt-meters", str(config.mqtt_meters),
            "--control-port", str(config.control_port),
            "--timezones", ",".join(tz for _name, tz, _address in SITES)]


def control_hint(config: DemoConfig) -> str:
    """One line telling the operator how to make a simulated meter misbehave."""
    port = "" if config.control_port == DEFAULT_CONTROL_PORT else \
        f"{CONTROL_PORT_ENV}={config.control_port} "
    code = modbus_meter_code(0, 1, config.meters_per_gateway)
    return (f"  try: {port}.venv/bin/python -m kpm37.simulator.ctl {code} silent on   "
            f"(or voltage 265; --help lists every verb)")


def busy_ports(config: DemoConfig) -> list[str]:
    """The ports the demo needs that something else already holds, with the variable to change."""
    wanted = [(config.web_port, "FLEET_DEMO_PORT"), (config.mqtt_port, "FLEET_DEMO_MQTT_PORT")]
    wanted += [(port, "FLEET_DEMO_MODBUS_PORT_BASE") for port in config.modbus_ports]
    wanted.append((config.control_port, "FLEET_DEMO_CONTROL_PORT"))
    return [f"port {port} is in use (set {variable})" for port, variable in wanted
            if not port_free(port)]
