"""What the relay panel and the API show: each output's state and modes, and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from meters.jobs.choices import PENDING_STATES
from meters.jobs.models import MeterJob
from meters.jobs.selectors import reported_values
from meters.models import Meter
from meters.relays.choices import FROM_JOB_STATE, CommandState, Output
from meters.relays.models import RelayGroupCommand

CONTROL_MODES = {0: "remote", 1: "alarm"}
OUTPUT_MODES = {0: "level", 1: "pulse"}
HISTORY = 20


@dataclass(frozen=True)
class OutputState:
    output: int
    closed: bool | None  # None: never read back
    read_at: Any
    control_mode: str  # remote, alarm, or "" (unknown)
    output_mode: str  # level, pulse, or ""

    @property
    def switchable(self) -> bool:
        return self.control_mode != "alarm"


def _value(reported: dict[str, Any], name: str) -> tuple[Any, Any]:
    entry = reported.get(name)
    return (entry.get("value"), entry.get("time")) if isinstance(entry, dict) else (None, None)


def output_states(meter: Meter) -> list[OutputState]:
    reported = reported_values(meter_id=meter.pk)
    states = []
    for output in Output.values:
        closed, at = _value(reported, f"do{output}")
        control, _ = _value(reported, f"do{output}_control_mode")
        mode, _ = _value(reported, f"do{output}_output_mode")
        states.append(OutputState(output=output, closed=None if closed is None else bool(closed),
                                  read_at=at, control_mode=CONTROL_MODES.get(control, ""),
                                  output_mode=OUTPUT_MODES.get(mode, "")))
    return states


def relay_commands(*, meter_ids: Any = None) -> QuerySet[MeterJob]:
    jobs = MeterJob.objects.filter(kind="relay").select_related("meter", "requested_by")
    if meter_ids is not None:
        jobs = jobs.filter(meter_id__in=meter_ids)
    return jobs.order_by("-created_at", "-id")


def relay_history(meter: Meter) -> list[MeterJob]:
    return list(relay_commands(meter_ids=[meter.pk])[:HISTORY])


def relay_read_pending(meter: Meter) -> bool:
    """Whether a read of the relay state is still on its way (the panel polls quickly)."""
    return MeterJob.objects.filter(meter_id=meter.pk, kind="read", reason="read relay state",
                                   state__in=PENDING_STATES).exists()


def has_pending(jobs: list[MeterJob]) -> bool:
    return any(job.state in PENDING_STATES for job in jobs)


def command_state(job: MeterJob) -> CommandState:
    return FROM_JOB_STATE[job.state]


def group_list() -> QuerySet[RelayGroupCommand]:
    return RelayGroupCommand.objects.order_by("-requested_at", "-id")
