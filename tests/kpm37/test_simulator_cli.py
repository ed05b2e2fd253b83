"""The simulator's command line: documented options and clear errors instead of tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ("--gateways", "--meters-per-gateway", "--modbus-port-base", "--framer", "--baud",
           "--profile", "--lora-gateways", "--mqtt-url", "--mqtt-meters", "--split-packets",
           "--host", "--speed", "--seed", "--fault")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpm37.simulator", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)


def test_help_documents_every_option() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for option in OPTIONS:
        assert option in result.stdout, option


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--fault", "0:1:melted"), "kind 'melted'"),
        (("--gateways", "-1"), "must not be negative"),
        (("--framer", "ascii"), "invalid choice"),
        (("--mqtt-meters", "3"), "mqtt_url"),
        (("--meters-per-gateway", "300"), "meters_per_gateway"),
        (("--modbus-port-base", "0", "--fault", "5:1:silent"), "gateway: 5 does not exist"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(args: tuple[str, ...], reason: str) -> None:
    result = _cli(*args)
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
