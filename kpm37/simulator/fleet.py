"""A whole simulated fleet in one event loop: Modbus gateways, LoRa gateways and MQTT meters.

Used by the command line (``python -m kpm37.simulator``) and by tests, which start it on free
ports with ``port_base=0``::

    async with SimulatedFleet(gateways=2, meters_per_gateway=5) as fleet:
        host, port = fleet.gateways[0].address
"""

from __future__ import annotations

import asyncio
import contextlib
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpm37.simulator.codes import modbus_meter_code, mqtt_meter_code, round_robin
from kpm37.simulator.control import ControlServer, controlled_meters
from kpm37.simulator.faults import FaultSpec, apply_meter_fault
from kpm37.simulator.gateway import MeterLike, SimGateway
from kpm37.simulator.rs485 import BusTiming

MODEL_DIGITS = {"KPM37": "307", "KPM33B": "33B"}
MeterFactory = Callable[[str, int, int], MeterLike]  # (code, address, seed) -> meter


@dataclass
class FleetConfig:
    """Everything the command line can set; see ``python -m kpm37.simulator --help``."""

    gateways: int = 1
    meters_per_gateway: int = 1
    port_base: int = 0
    framer: str = "socket"
    baud: int = 9600
    turnaround: float = 0.005
    profile: str = "kpm37"
    lora_gateways: int = 0
    lora_delay: float = 0.4
    mqtt_url: str | None = None
    mqtt_meters: int = 0
    split_packets: bool = False
    mqtt_interval: float | None = None  # seconds between MQTT uploads; None: the meter's own
    host: str = "127.0.0.1"
    speed: float = 1.0
    seed: int = 0
    faults: Sequence[FaultSpec] = field(default_factory=tuple)
    tick_seconds: float = 1.0
    control_port: int | None = None  # run-time control server on loopback (0: a free port)
    # Meter clocks run in local time: gateway g and MQTT meter k take timezones[g % n] and
    # timezones[k % n] (codes.round_robin, the rule the demo seeder assigns sites by).
    timezones: Sequence[str] = ()

    def __post_init__(self) -> None:
        for name in ("gateways", "meters_per_gateway", "lora_gateways", "mqtt_meters"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative")
        if not 1 <= self.meters_per_gateway <= 247 and self.gateways + self.lora_gateways:
            raise ValueError("meters_per_gateway: must be 1-247 (Modbus addresses)")
        if self.port_base and not 1 <= self.port_base <= 65535 - self.gateways - self.lora_gateways:
            raise ValueError(f"port_base: {self.port_base} leaves no room for every gateway")
        if self.mqtt_meters and not self.mqtt_url:
            raise ValueError("mqtt_url: needed when mqtt_meters > 0")
        if self.speed <= 0:
            raise ValueError("speed: must be positive")
        if self.mqtt_interval is not None and self.mqtt_interval <= 0:
            raise ValueError("mqtt_interval: must be positive")
        if self.control_port is not None and not 0 <= self.control_port <= 65535:
            raise ValueError(f"control_port: {self.control_port} is not a port (0-65535)")
        for tz in self.timezones:
            try:
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezones: {tz!r} is not an IANA time zone") from None

    def timezone_of(self, index: int) -> str:
        """Time zone of the ``index``-th gateway's meters, or of the ``index``-th MQTT meter."""
        return round_robin(index, self.timezones) if self.timezones else "UTC"


class SimulatedFleet:
    """Starts and stops every simulated gateway and meter of a :class:`FleetConfig`."""

    def __init__(self, config: FleetConfig | None = None, *,
                 meter_factory: MeterFactory | None = None, **overrides: Any) -> None:
        self.config = config or FleetConfig(**overrides)
        self._factory = meter_factory or self._sim_meter_factory()
        self.gateways: list[SimGateway] = []
        self.mqtt_meters: list[MeterLike] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.control: ControlServer | None = None
        self._timezone_by_code: dict[str, str] = {}

    @property
    def meters(self) -> list[MeterLike]:
        """Every Modbus meter, gateway by gateway."""
        return [m for g in self.gateways for m in g.meters.values()]

    def _sim_meter_factory(self) -> MeterFactory:
        from kpm37.profile import load_profile
        from kpm37.simulator.clock import SimClock
        from kpm37.simulator.meter import SimMeter

        profile = load_profile(self.config.profile)

        def make(code: str, address: int, seed: int) -> MeterLike:
            clock = SimClock(speed=self.config.speed,
                             timezone=self._timezone_by_code.get(code, "UTC"))
            return SimMeter(profile, code=code, address=address, clock=clock, seed=seed)

        self._model = MODEL_DIGITS.get(profile.model, "307")
        return make

    async def __aenter__(self) -> SimulatedFleet:
        try:
            await self.start()
        except BaseException:
            await self.stop()  # a bad fault spec must not leave ports open
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Build meters, listen on every gateway port, start ticking and MQTT publishing."""
        cfg = self.config
        model = getattr(self, "_model", "307")
        for g in range(cfg.gateways + cfg.lora_gateways):
            self._timezone_by_code.update(
                (modbus_meter_code(g, a, cfg.meters_per_gateway, model), cfg.timezone_of(g))
                for a in range(1, cfg.meters_per_gateway + 1))
            meters = [
                self._factory(modbus_meter_code(g, a, cfg.meters_per_gateway, model), a,
                              cfg.seed * 1_000_003 + g * 1000 + a)
                for a in range(1, cfg.meters_per_gateway + 1)
            ]
            await self._start_gateway(g, meters, lora=g >= cfg.gateways)
        self._timezone_by_code.update(
            (mqtt_meter_code(i, model), cfg.timezone_of(i)) for i in range(cfg.mqtt_meters))
        self.mqtt_meters = [
            self._factory(mqtt_meter_code(i, model), 1, cfg.seed * 1_000_003 + 900_000 + i)
            for i in range(cfg.mqtt_meters)
        ]
        self._apply_faults()
        self._tasks.append(asyncio.create_task(self._tick_forever()))
        if self.mqtt_meters:
            self._tasks.append(asyncio.create_task(self._serve_mqtt()))
        if cfg.control_port is not None:
            # Loopback only: the channel has no authentication, it is for demos and tests.
            self.control = ControlServer(controlled_meters(self.gateways, self.mqtt_meters))
            await self.control.start("127.0.0.1", cfg.control_port)

    async def _start_gateway(self, index: int, meters: list[MeterLike], *, lora: bool) -> None:
        cfg = self.config
        timing = BusTiming(cfg.baud, cfg.turnaround, cfg.lora_delay if lora else 0.0)
        gateway = SimGateway(
            meters, framer="rtu" if lora else cfg.framer, timing=timing,
            name=f"{'lora' if lora else 'rs485'} gateway {index}",
        )
        await gateway.start(cfg.host, cfg.port_base + index if cfg.port_base else 0)
        self.gateways.append(gateway)

    def _apply_faults(self) -> None:
        for spec in self.config.faults:
            if spec.target == "gateway":
                self._gateway(spec).drop_every = spec.value
            elif spec.target == "mqtt":
                if spec.index >= len(self.mqtt_meters):
                    raise ValueError(f"fault mqtt meter: {spec.index} does not exist")
                apply_meter_fault(self.mqtt_meters[spec.index].faults, spec)
            else:
                meter = self._gateway(spec).meters.get(spec.unit)
                if meter is None:
                    raise ValueError(f"fault unit: no meter {spec.unit} on gateway {spec.index}")
                apply_meter_fault(meter.faults, spec)

    def _gateway(self, spec: FaultSpec) -> SimGateway:
        if spec.index >= len(self.gateways):
            raise ValueError(f"fault gateway: {spec.index} does not exist")
        return self.gateways[spec.index]

    async def _tick_forever(self) -> None:
        while True:
            for meter in [*self.meters, *self.mqtt_meters]:
                tick = getattr(meter, "tick", None)
                if tick is not None:
                    tick()
            await asyncio.sleep(self.config.tick_seconds)

    async def _serve_mqtt(self) -> None:
        from kpm37.simulator.mqtt_meter import serve_mqtt_meters

        await serve_mqtt_meters(
            self.mqtt_meters, str(self.config.mqtt_url),  # type: ignore[arg-type]
            split_packets=self.config.split_packets, speed=self.config.speed,
            interval_override_s=self.config.mqtt_interval,
        )

    async def stop(self) -> None:
        """Stop the control server, publishing and ticking; close every gateway."""
        if self.control is not None:
            await self.control.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for gateway in self.gateways:
            await gateway.stop()
