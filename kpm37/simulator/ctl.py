"""``python -m kpm37.simulator.ctl``: drive a running simulator from the terminal.

Human-friendly verbs become the JSON requests of :mod:`kpm37.simulator.control`; the reply is
printed, and any refusal is printed with exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from kpm37.simulator.control import CONTROL_PORT_ENV, DEFAULT_CONTROL_PORT, control_request

VERBS = f"""\
verbs (several may follow one meter code; METER may be * for every meter):
  list                          every simulated meter: where it is, faults, live values
  METER                         one meter's state (also: METER show)
  METER silent on|off           stop answering Modbus / stop publishing MQTT (goes offline)
  METER corrupt-crc on|off      Modbus answers with a bad CRC
  METER wrong-unit on|off       Modbus answers from the wrong unit id
  METER slow MS                 Modbus answers MS milliseconds late (0: on time)
  METER duplicate-messages on|off   MQTT meter sends every message twice
  METER zero-messages on|off    MQTT meter slips an all-zero message in
  METER voltage V|off           pin all three phase voltages (265 raises over-voltage on a
                                220 V meter); off restores the meter's own voltage
  METER current A|off           pin all three phase currents
  METER power-factor PF|off     pin the power factor (-1..1; negative: export)
  METER reset-energy            energy counters to zero, as a swapped or reset meter
  METER clock-offset SECONDS    shift the meter clock (3600: one hour fast)
  METER clock-drift S_PER_H     the clock gains (negative: loses) this much per hour

The control port is --port, else ${CONTROL_PORT_ENV}, else {DEFAULT_CONTROL_PORT} (the demo's).
example: python -m kpm37.simulator.ctl 3071025100001 silent on
"""

FLAGS = {"silent": "silent", "corrupt-crc": "corrupt_crc", "wrong-unit": "wrong_unit",
         "duplicate-messages": "duplicate_messages", "zero-messages": "zero_messages"}
NUMBERS: dict[str, tuple[str, Callable[[str], float | int], bool]] = {
    # verb: (setting, conversion, whether "off" releases it)
    "slow": ("slow_ms", int, False), "voltage": ("voltage", float, True),
    "current": ("current", float, True), "power-factor": ("power_factor", float, True),
    "clock-offset": ("clock_offset_s", float, False),
    "clock-drift": ("clock_drift_s_per_h", float, False),
}


class UsageError(ValueError):
    """The words on the command line do not make a request; the message says why."""


def build_parser() -> argparse.ArgumentParser:
    """The ctl argument parser; the verbs are documented in its epilog."""
    p = argparse.ArgumentParser(prog="python -m kpm37.simulator.ctl", description=__doc__,
                                epilog=VERBS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="where the control server listens")
    p.add_argument("--port", type=int, default=None, help="control port of the simulator")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a reply")
    p.add_argument("--json", action="store_true", help="print the raw JSON reply")
    p.add_argument("words", nargs="+", metavar="WORD", help="list, or METER [VERB [VALUE]]...")
    return p


def request_for(words: list[str]) -> dict[str, Any]:
    """The control request the command-line ``words`` ask for (UsageError if none)."""
    if words == ["list"]:
        return {"list": True}
    meter, rest = words[0], words[1:]
    if rest in ([], ["show"]):
        return {"meter": meter}
    settings: dict[str, Any] = {}
    while rest:
        verb, rest = rest[0], rest[1:]
        if verb == "reset-energy":
            settings["reset_energy"] = True
            continue
        if not rest:
            raise UsageError(f"{verb}: needs a value")
        settings.update(_setting(verb, rest[0]))
        rest = rest[1:]
    return {"meter": meter, "set": settings}


def _setting(verb: str, value: str) -> dict[str, Any]:
    if verb in FLAGS:
        if value not in ("on", "off"):
            raise UsageError(f"{verb}: {value!r} is not on or off")
        return {FLAGS[verb]: value == "on"}
    if verb not in NUMBERS:
        raise UsageError(f"{verb}: unknown verb (see --help)")
    key, convert, releasable = NUMBERS[verb]
    if value == "off" and releasable:
        return {key: None}
    try:
        return {key: convert(value)}
    except ValueError:
        kind = "whole number" if convert is int else "number"
        raise UsageError(f"{verb}: {value!r} is not a {kind}"
                         + (" or off" if releasable else "")) from None


def control_port(given: int | None) -> int:
    """--port, else the FLEET_SIM_CONTROL_PORT variable, else the demo's default port."""
    if given is not None:
        return given
    raw = os.environ.get(CONTROL_PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_CONTROL_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise UsageError(f"{CONTROL_PORT_ENV}={raw!r}: not a port number (1-65535)")
    return int(raw)


def describe(state: dict[str, Any]) -> str:
    """One line for a meter's state, as the control server reports it."""
    where = (f"gateway {state['gateway']} unit {state['unit']} ({state['gateway_address']})"
             if state.get("transport") == "modbus" else f"mqtt meter {state.get('mqtt')}")
    values = "  ".join(f"{label}={state[key]}" for key, label in (
        ("voltage_a", "V"), ("current_a", "A"), ("power_factor_total", "PF"),
        ("import_active_energy", "import kWh")) if key in state)
    faults = ", ".join(f"{k}={v}" if v is not True else k for k, v in state["faults"].items())
    return (f"{state['code']}  {where}  {values}  clock {state['clock']}"
            f"  faults: {faults or 'none'}  alarms: {', '.join(state['alarms']) or 'none'}")


def _print_reply(reply: dict[str, Any], raw: bool) -> None:
    if raw:
        print(json.dumps(reply, indent=2))
    elif "meter" in reply:
        print(describe(reply["meter"]))
    else:
        for state in reply.get("meters", []):
            print(describe(state))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (1: refused or unreachable, 2: bad command line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        request, port = request_for(args.words), control_port(args.port)
    except UsageError as exc:
        parser.error(str(exc))
    try:
        reply = asyncio.run(control_request(request, host=args.host, port=port,
                                            wait_s=args.timeout))
    except (OSError, TimeoutError, ValueError) as exc:
        print(f"ctl: error: no answer from the simulator control server on {args.host}:{port} "
              f"({exc or type(exc).__name__}); start the simulator with --control-port, "
              f"or set {CONTROL_PORT_ENV}", file=sys.stderr)
        return 1
    if not reply.get("ok"):
        print(f"ctl: error: {reply.get('error', 'refused')}", file=sys.stderr)
        return 1
    _print_reply(reply, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
