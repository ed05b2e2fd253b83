"""``manage.py meter read CODE [NAME ...]`` and ``meter write CODE NAME=VALUE ... --reason``.

Both go through meter jobs: the job is queued, a worker (the gateway's bus owner, or the MQTT
command task) runs it, and the command waits, showing each change of state, then prints the
values read back or the reason it failed. ``--no-wait`` only queues; ``--here`` runs the job in
this process (a single-site install without a worker).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.jobs.choices import JobState
from meters.jobs.models import MeterJob
from meters.jobs.services import job_submit, job_wait
from meters.models import Meter


def parse_assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: the value as JSON when it is (numbers, true/false), else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise CommandError(f"{text!r}: expected NAME=VALUE")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


def refuse_nul(options: dict[str, Any]) -> None:
    """A NUL character in any argument is refused by name: PostgreSQL cannot even look it up."""
    for name, value in options.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise CommandError(f"{name}: contains a NUL character (0x00), which is not text")


def positive_seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 10**6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


class Command(BaseCommand):
    help = "Read or write a meter's values through a meter job, and wait for the result."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        read = actions.add_parser("read", help="read values (none: the whole configuration)")
        read.add_argument("code")
        read.add_argument("names", nargs="*")
        write = actions.add_parser("write", help="write values, verified by reading them back")
        write.add_argument("code")
        write.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
        write.add_argument("--reason", required=True, help="why (kept with the job)")
        for sub in (read, write):
            sub.add_argument("--no-wait", action="store_true", help="queue the job and return")
            sub.add_argument("--here", action="store_true",
                             help="run the job in this process instead of waiting for a worker")
            sub.add_argument("--timeout", type=positive_seconds, default=120.0,
                             help="seconds to wait for the result (default 120)")
            sub.add_argument("--user", default="", help="record the job as asked by this user")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_nul(options)
        meter = Meter.objects.filter(code=options["code"].upper()).first()
        if meter is None:
            raise CommandError(f"code: no meter with code {options['code']!r}")
        if options["action"] == "read":
            kind, payload = "read", {"names": options["names"]}
        else:
            kind = "write"
            payload = {"values": dict(parse_assignment(a) for a in options["assignments"])}
        try:
            job = job_submit(meter=meter, kind=kind, payload=payload,
                             requested_by=self._user(options["user"]),
                             reason=options.get("reason") or "manage.py meter")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}"
                                         for field, msgs in exc.message_dict.items())) from None
        self.stdout.write(f"job {job.pk}: {kind} on {meter.code} queued")
        if options["no_wait"]:
            return
        if options["here"]:
            self._run_here(job)
        job = job_wait(job_id=job.pk, timeout_s=options["timeout"], on_change=self._progress)
        self._report(job)

    def _user(self, username: str) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user: no user named {username!r}")
        return user

    def _run_here(self, job: MeterJob) -> None:
        from meters.jobs.tasks import run_gateway_jobs, run_mqtt_job

        if job.meter.gateway_id is not None:
            run_gateway_jobs(job.meter.gateway_id)
        else:
            run_mqtt_job(job.pk)

    def _progress(self, job: MeterJob) -> None:
        line = f"  {job.state}"
        if job.attempts:
            line += f" (attempt {job.attempts})"
        if job.state == JobState.QUEUED and job.last_error:
            line += f": last attempt {job.last_error}; next at {job.not_before:%H:%M:%S} UTC"
        self.stdout.write(line)

    def _report(self, job: MeterJob) -> None:
        if job.state == JobState.VERIFIED:
            for name, value in sorted(job.result.get("values", {}).items()):
                self.stdout.write(f"{name} = {value}")
            self.stdout.write(self.style.SUCCESS(f"job {job.pk} verified"))
            return
        if job.is_pending:
            raise CommandError(f"job {job.pk} is still {job.state} after the timeout; follow "
                               f"it at /api/jobs/{job.pk}/ (is a worker running?)")
        raise CommandError(f"job {job.pk} {job.state}: {job.failure}")
