"""``manage.py ingest_mqtt``: store what meters publish over MQTT (Compere V1.9)."""

from __future__ import annotations

import signal
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kpm37.errors import ValueOutOfRange
from kpm37.mqtt.link import parse_url
from meters.telemetry.mqtt_ingest import ConnectError, IngestOptions, IngestRunner


def _positive(kind: type, name: str) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise CommandError(f"--{name}: {text!r} is not a number") from None
        if value <= 0:
            raise CommandError(f"--{name}: must be positive, got {text}")
        return value
    return parse


class Command(BaseCommand):
    help = ("Subscribe to the meters' telemetry topics and store every message; ack after "
            "commit. Several processes with the same --group split the load (MQTT 5).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=settings.MQTT_URL, help="mqtt://[user:pw@]host:port")
        parser.add_argument("--client-id", default=f"kpm-fleet-ingest-{socket.gethostname()}",
                            help="fixed per process, so the broker keeps its session")
        parser.add_argument("--group", default="kpm-fleet-ingest",
                            help="shared-subscription group name")
        parser.add_argument("--no-share", action="store_true",
                            help="plain subscriptions, for a single ingest process (survives "
                                 "a Mosquitto 2.0 restart without a gap; see deploy/README.md)")
        parser.add_argument("--protocol", choices=["3", "5", "auto"], default="auto")
        parser.add_argument("--session-expiry", type=_positive(int, "session-expiry"),
                            default=7 * 24 * 3600, help="seconds the broker keeps the session")
        parser.add_argument("--batch-size", type=_positive(int, "batch-size"), default=500)
        parser.add_argument("--batch-wait", type=_positive(float, "batch-wait"), default=0.2,
                            help="seconds to gather a batch")
        parser.add_argument("--run-for", type=_positive(float, "run-for"), default=None,
                            help="stop after this many seconds (default: run until signalled)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            parse_url(opts["url"])
        except ValueOutOfRange as exc:
            raise CommandError(f"--url: {exc}") from None
        runner = IngestRunner(IngestOptions(
            url=opts["url"], client_id=opts["client_id"], group=opts["group"],
            shared=not opts["no_share"],
            protocol=opts["protocol"], session_expiry_s=opts["session_expiry"],
            batch_size=opts["batch_size"], batch_wait_s=opts["batch_wait"]))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: runner.stop())
        try:
            runner.run(run_for_s=opts["run_for"])
        except ConnectError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"ingest stopped: {runner.batcher.totals}")
