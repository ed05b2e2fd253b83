"""What the demo runs, read from FLEET_DEMO_* environment variables with small defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from kpm37.simulator.control import DEFAULT_CONTROL_PORT


class DemoConfigError(ValueError):
    """An FLEET_DEMO_* variable holds a value the demo cannot use; the message names it."""


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DemoConfigError(f"{name}={raw!r}: not a whole number") from None
    if not low <= value <= high:
        raise DemoConfigError(f"{name}={value}: must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class DemoConfig:
    """Ports and fleet size of one demo run."""

    web_port: int = 8000
    mqtt_port: int = 18830
    modbus_port_base: int = 15020
    gateways: int = 3
    meters_per_gateway: int = 8
    mqtt_meters: int = 6
    password: str = ""
    password_generated: bool = False
    # The simulator's run-time control (python -m kpm37.simulator.ctl); below the Modbus ports
    # so it never lands on one of them, however many gateways there are.
    control_port: int = DEFAULT_CONTROL_PORT

    def __post_init__(self) -> None:
        others = {self.web_port: "FLEET_DEMO_PORT", self.mqtt_port: "FLEET_DEMO_MQTT_PORT",
                  **dict.fromkeys(self.modbus_ports, "FLEET_DEMO_MODBUS_PORT_BASE")}
        if self.control_port in others:
            raise DemoConfigError(f"FLEET_DEMO_CONTROL_PORT={self.control_port}: also used by "
                                  f"{others[self.control_port]}; pick another port")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def modbus_ports(self) -> list[int]:
        return [self.modbus_port_base + i for i in range(self.gateways)]

    @classmethod
    def from_env(cls) -> DemoConfig:
        """Read FLEET_DEMO_PORT, FLEET_DEMO_PASSWORD and the other FLEET_DEMO_* knobs."""
        password = os.environ.get("FLEET_DEMO_PASSWORD", "")
        modbus_port_base = _env_int("FLEET_DEMO_MODBUS_PORT_BASE", 15020, 2, 65000)
        return cls(
            web_port=_env_int("FLEET_DEMO_PORT", 8000, 1, 65535),
            mqtt_port=_env_int("FLEET_DEMO_MQTT_PORT", 18830, 1, 65535),
            modbus_port_base=modbus_port_base,
            control_port=_env_int("FLEET_DEMO_CONTROL_PORT", modbus_port_base - 1, 1, 65535),
            gateways=_env_int("FLEET_DEMO_GATEWAYS", 3, 1, 50),
            meters_per_gateway=_env_int("FLEET_DEMO_METERS_PER_GATEWAY", 8, 1, 247),
            mqtt_meters=_env_int("FLEET_DEMO_MQTT_METERS", 6, 0, 500),
            password=password or generate_password(),
            password_generated=not password,
        )


def generate_password() -> str:
    """A password that is easy to type from the terminal and strong enough for a local demo."""
    return secrets.token_urlsafe(12)
