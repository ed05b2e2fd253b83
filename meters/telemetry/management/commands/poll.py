"""``manage.py poll``: read Modbus meters now, whatever their schedule, and say what came back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.choices import GatewayKind, TransportKind
from meters.models import Gateway, Meter
from meters.telemetry.polling import POLLED_KINDS, MeterResult, PollError, gateway_poll

KEY_VALUES = (("voltage_a", "Ua", "V"), ("voltage_b", "Ub", "V"), ("voltage_c", "Uc", "V"),
              ("import_active_energy", "import", "kWh"))


def describe(result: MeterResult) -> str:
    """One line for one meter: a few key values, or the error."""
    head = f"  {result.code} @{result.address:<3}"
    if not result.ok:
        return f"{head} FAILED {result.error}: {result.message}"
    shown = [f"{label} {result.values[name]:.1f} {unit}" for name, label, unit in KEY_VALUES
             if isinstance(result.values.get(name), int | float)]
    return f"{head} ok     {', '.join(shown)} ({len(result.values)} values)"


class Command(BaseCommand):
    help = ("Poll Modbus meters now (ignoring their schedule) and store the readings; "
            "exit code 1 if any meter failed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gateway", help="gateway name (default: every polled gateway)")
        parser.add_argument("--meter", help="13-character meter code (only this meter)")

    def handle(self, *args: Any, **opts: Any) -> None:
        targets = self._targets(opts["gateway"], opts["meter"])
        if opts["gateway"] is None and opts["meter"] is None:
            self._mention_dialin()
        if not targets:
            self.stdout.write("no enabled gateway has Modbus meters: nothing to poll")
        failed = 0
        for gateway, meter_ids in targets:
            failed += self._poll(gateway, meter_ids)
        if failed:
            raise CommandError(f"{failed} meter(s) or gateway(s) failed", returncode=1)

    def _targets(self, gateway_name: str | None,
                 code: str | None) -> list[tuple[Gateway, list[int]]]:
        gateways = Gateway.objects.filter(kind__in=POLLED_KINDS, enabled=True)
        modbus = Meter.objects.filter(transport=TransportKind.MODBUS)
        if gateway_name is not None:
            gateways = Gateway.objects.filter(name=gateway_name)
            if not gateways:
                raise CommandError(f"--gateway: no gateway named {gateway_name!r}")
        if code is not None:
            meter = modbus.filter(code=code.strip().upper()).first()
            if meter is None:
                raise CommandError(f"--meter: no Modbus meter with code {code!r}")
            if gateway_name is not None and meter.gateway_id != gateways[0].pk:
                raise CommandError(f"--meter: {code} is not on gateway {gateway_name}")
            return [(meter.gateway, [meter.pk])]
        found = [(g, list(modbus.filter(gateway=g).values_list("pk", flat=True)))
                 for g in gateways]
        return [(g, ids) for g, ids in found if ids or gateway_name is not None]

    def _mention_dialin(self) -> None:
        """Dial-in meters call us, so this command cannot reach them: say who serves them."""
        dialin = Gateway.objects.filter(kind=GatewayKind.DIAL_IN, enabled=True).order_by("name")
        for name in dialin.values_list("name", flat=True):
            self.stdout.write(f"gateway {name} (dial-in): not polled here; its meters dial in "
                              f"to `manage.py dialin_listener --gateway {name}`, which polls them")

    def _poll(self, gateway: Gateway, meter_ids: list[int]) -> int:
        """Poll one gateway, print its progress and results; returns the number of failures."""
        where = gateway.device or f"{gateway.host}:{gateway.port}"
        self.stdout.write(f"gateway {gateway.name} ({gateway.kind} {where}): "
                          f"polling {len(meter_ids)} meter(s)...")
        try:
            report = gateway_poll(gateway_id=gateway.pk, meter_ids=meter_ids)
        except PollError as exc:
            self.stderr.write(f"  skipped: {exc}")
            return 1
        if not report.claimed:
            self.stderr.write(f"  skipped: {report.note}")
            return 1
        for result in report.results:
            self.stdout.write(describe(result))
        note = f"; {report.note}" if report.note else ""
        self.stdout.write(f"  {len(report.ok)} ok, {len(report.failed)} failed, "
                          f"{report.stored} reading(s) stored{note}")
        return len(report.failed)
