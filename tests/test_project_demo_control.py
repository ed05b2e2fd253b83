"""The demo starts the simulator with a control port, and the hint it prints really works."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kpm37.simulator.__main__ import build_parser, config_from
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.control import DEFAULT_CONTROL_PORT
from provisioning.demo.config import DemoConfig, DemoConfigError
from provisioning.demo.parts import busy_ports, control_hint, demo_parts

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _simulator_argv(config: DemoConfig) -> list[str]:
    return next(p.argv for p in demo_parts(config) if p.name == "simulator")


def test_default_demo_serves_control_below_the_modbus_ports(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLEET_DEMO_CONTROL_PORT", "FLEET_DEMO_MODBUS_PORT_BASE"):
        monkeypatch.delenv(name, raising=False)
    config = DemoConfig.from_env()
    assert config.control_port == DEFAULT_CONTROL_PORT == config.modbus_port_base - 1
    args = build_parser().parse_args(_simulator_argv(config)[3:])  # after python -m module
    assert config_from(args).control_port == DEFAULT_CONTROL_PORT
    hint = control_hint(config)
    assert hint.strip().startswith("try: .venv/bin/python -m kpm37.simulator.ctl ")
    assert f"{modbus_meter_code(0, 1, config.meters_per_gateway)} silent on" in hint
    assert "voltage 265" in hint


def test_control_port_follows_the_modbus_base_or_its_own_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEET_DEMO_CONTROL_PORT", raising=False)
    monkeypatch.setenv("FLEET_DEMO_MODBUS_PORT_BASE", "21000")
    moved = DemoConfig.from_env()
    assert moved.control_port == 20999
    assert control_hint(moved).strip().startswith("try: FLEET_SIM_CONTROL_PORT=20999 ")
    monkeypatch.setenv("FLEET_DEMO_CONTROL_PORT", "30001")
    assert DemoConfig.from_env().control_port == 30001


@pytest.mark.parametrize(("value", "reason"), [
    ("21001", "also used by FLEET_DEMO_MODBUS_PORT_BASE"),
    ("8000", "also used by FLEET_DEMO_PORT"),
    ("port", "not a whole number"),
    ("70000", "must be between 1 and 65535"),
])
def test_a_bad_control_port_is_refused_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, value: str, reason: str) -> None:
    monkeypatch.setenv("FLEET_DEMO_MODBUS_PORT_BASE", "21000")
    monkeypatch.setenv("FLEET_DEMO_PORT", "8000")
    monkeypatch.setenv("FLEET_DEMO_CONTROL_PORT", value)
    with pytest.raises(DemoConfigError, match=f"FLEET_DEMO_CONTROL_PORT='?{value}'?: .*{reason}"):
        DemoConfig.from_env()


def test_a_held_control_port_is_reported_before_the_demo_starts() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        held = holder.getsockname()[1]
        config = DemoConfig(web_port=_free_port(), mqtt_port=_free_port(),
                            modbus_port_base=_free_port(), gateways=1, control_port=held)
        assert f"port {held} is in use (set FLEET_DEMO_CONTROL_PORT)" in busy_ports(config)


def test_the_printed_hint_drives_the_simulator_the_demo_starts() -> None:
    config = DemoConfig(modbus_port_base=_free_port(), gateways=1, meters_per_gateway=2,
                        mqtt_meters=0, control_port=_free_port())
    sim = subprocess.Popen(_simulator_argv(config), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        assert "control listening" in sim.stdout.readline() + sim.stdout.readline()
        words = shlex.split(control_hint(config).split("try:")[1].split("(")[0])
        env = dict(os.environ)
        while "=" in words[0]:  # VAR=value prefix, as a shell would take it
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words[0] == ".venv/bin/python"
        result = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert "faults: silent" in result.stdout
    finally:
        sim.terminate()
        sim.wait(timeout=10)
