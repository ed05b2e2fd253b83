"""Command line: ``python -m kpm37.simulator`` runs a simulated fleet until SIGINT/SIGTERM.

Gateway i (0-based) listens on host:(modbus-port-base + i) with meters at addresses
1..meters-per-gateway; LoRa gateways follow the RS485 ones. One line per listening gateway is
printed (and the control port, with ``--control-port``), then the simulator runs until stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable

from kpm37.simulator.faults import FaultSpec, parse_fault
from kpm37.simulator.fleet import FleetConfig, SimulatedFleet


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
        return value

    return convert


def build_parser() -> argparse.ArgumentParser:
    """The simulator's argument parser (every option documented for --help)."""
    from kpm37.profile import profile_names

    p = argparse.ArgumentParser(prog="python -m kpm37.simulator", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    n, x = _positive(int), _positive(float)
    p.add_argument("--gateways", type=n, default=1, help="RS485 gateways to simulate")
    p.add_argument("--meters-per-gateway", type=n, default=1,
                   help="meters behind each gateway, at Modbus addresses 1..M")
    p.add_argument("--modbus-port-base", type=n, default=5020,
                   help="gateway i listens on this port + i (0: free ports, printed)")
    p.add_argument("--framer", choices=("socket", "rtu"), default="socket",
                   help="socket = Modbus TCP gateway, rtu = RTU-over-TCP serial server")
    p.add_argument("--baud", type=n, default=9600, help="RS485 baud rate for bus timing")
    p.add_argument("--turnaround", type=x, default=0.005,
                   help="seconds a meter takes to start answering")
    p.add_argument("--profile", choices=profile_names(), default="kpm37",
                   help="device profile the meters follow")
    p.add_argument("--lora-gateways", type=n, default=0,
                   help="extra gateways behind a LoRa link (RTU framing), after the RS485 ones")
    p.add_argument("--lora-delay", type=x, default=0.4, help="LoRa link delay each way, seconds")
    p.add_argument("--mqtt-url", default=None, help="broker for MQTT meters, mqtt://host:port")
    p.add_argument("--mqtt-meters", type=n, default=0, help="WiFi/4G meters publishing over MQTT")
    p.add_argument("--split-packets", action="store_true",
                   help="MQTT meters split each message into several packets (isend)")
    p.add_argument("--mqtt-interval", type=x, default=None,
                   help="seconds between MQTT uploads (default: each meter's configured interval)")
    p.add_argument("--host", default="127.0.0.1", help="address the gateways listen on")
    p.add_argument("--speed", type=x, default=1.0,
                   help="meter clocks run this many times faster than real time")
    p.add_argument("--seed", type=n, default=0, help="random seed for loads and measurements")
    p.add_argument("--timezones", default="", metavar="TZ[,TZ...]",
                   help="IANA time zones the meter clocks run in: gateway g and MQTT meter k "
                        "take the (g mod n)-th and (k mod n)-th (default: UTC)")
    p.add_argument("--control-port", type=n, default=None,
                   help="serve run-time control (faults, load, clock; see python -m "
                        "kpm37.simulator.ctl --help) on 127.0.0.1:PORT (0: a free port, printed)")
    p.add_argument("--fault", action="append", default=[], type=_fault, metavar="SPEC",
                   help="G:U:silent|corrupt_crc|wrong_unit|slow_ms=MS on meter U of gateway G; "
                        "G:drop=N drops gateway G's connection every N requests; "
                        "mqtt:I:duplicate_messages|zero_messages on MQTT meter I (repeatable)")
    return p


def _fault(text: str) -> FaultSpec:
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def config_from(args: argparse.Namespace) -> FleetConfig:
    """Turn parsed arguments into a FleetConfig (ValueError names a bad field)."""
    return FleetConfig(
        gateways=args.gateways, meters_per_gateway=args.meters_per_gateway,
        port_base=args.modbus_port_base, framer=args.framer, baud=args.baud,
        turnaround=args.turnaround, profile=args.profile, lora_gateways=args.lora_gateways,
        lora_delay=args.lora_delay, mqtt_url=args.mqtt_url, mqtt_meters=args.mqtt_meters,
        split_packets=args.split_packets, mqtt_interval=args.mqtt_interval, host=args.host,
        speed=args.speed, seed=args.seed,
        faults=tuple(args.fault), control_port=args.control_port,
        timezones=tuple(tz.strip() for tz in args.timezones.split(",") if tz.strip()),
    )


async def run(config: FleetConfig) -> None:
    """Start the fleet, announce each gateway, and wait for SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimulatedFleet(config) as fleet:
        for index, gateway in enumerate(fleet.gateways):
            host, port = gateway.address
            print(f"gateway {index} listening on {host}:{port} framer={gateway.framer.name} "
                  f"baud={gateway.timing.baud} meters={len(gateway.meters)} "
                  f"kind={'lora' if index >= config.gateways else 'rs485'}", flush=True)
        if fleet.mqtt_meters:
            print(f"mqtt meters={len(fleet.mqtt_meters)} broker={config.mqtt_url}", flush=True)
        if fleet.control is not None:
            host, port = fleet.control.address
            print(f"control listening on {host}:{port} "
                  f"(python -m kpm37.simulator.ctl --port {port} list)", flush=True)
        await stop.wait()
    print("simulator stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from(args)
        asyncio.run(run(config))
    except (ValueError, OSError) as exc:
        print(f"kpm37.simulator: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
