"""``manage.py dialin_listener``: serve one dial-in gateway's 4G/WiFi meters until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.telemetry.dialin import DialInError, DialInServer, dialin_gateway


def _number(kind: type, name: str, minimum: float) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise CommandError(f"--{name}: {text!r} is not a number") from None
        if value < minimum:
            raise CommandError(f"--{name}: must be at least {minimum:g}, got {text}")
        return value
    return parse


class Command(BaseCommand):
    help = ("Listen for the meters of a dial-in gateway (4G/WiFi, Modbus-RTU transparent) and "
            "poll each at its interval; unknown meters are listed as unregistered. "
            "SIGTERM/SIGINT stop it.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gateway", required=True, help="name of the dial-in gateway")
        parser.add_argument("--port", type=_number(int, "port", 0), default=None,
                            help="listen on this port instead of the gateway's (0: any free one)")
        parser.add_argument("--registration-timeout", type=_number(float, "registration-timeout",
                                                                   0.05), default=1.0,
                            help="seconds to wait for a registration packet before reading "
                                 "the meter's serial number instead")
        parser.add_argument("--run-for", type=_number(float, "run-for", 0.1), default=None,
                            help="stop after this many seconds (default: run until signalled)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            gateway = dialin_gateway(name=opts["gateway"])
        except DialInError as exc:
            raise CommandError(str(exc)) from None
        if opts["port"] is not None and opts["port"] > 65535:
            raise CommandError(f"--port: must be at most 65535, got {opts['port']}")
        server = DialInServer(gateway, port=opts["port"],
                              registration_timeout_s=opts["registration_timeout"])
        try:
            asyncio.run(self._serve(server, opts["run_for"]))
        except OSError as exc:  # the port is taken or the address is not ours
            raise CommandError(f"gateway {gateway.name}: cannot listen: {exc}") from None

    @staticmethod
    async def _serve(server: DialInServer, run_for: float | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, stop.set)
        if run_for is not None:
            loop.call_later(run_for, stop.set)
        await server.serve(stop)
