"""The registry of job kinds: what a kind checks before a job exists and does on the meter.

An app adds a kind by subclassing :class:`JobKind` and calling :func:`register_kind` from its
AppConfig.ready(); ``meters`` never imports that app. A kind's ``validate`` runs in the request
(it raises ValueError-like :class:`PayloadInvalid` naming the field), and its ``run`` runs on
the bus owner's event loop with a :class:`JobContext`: it must not touch the database, only the
meter through ``ctx.device`` (both transports) or ``ctx.commander`` (MQTT V1.9 commands).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kpm37.device import MeterDevice
from kpm37.profile import Profile
from meters.jobs.choices import Priority

MODBUS = "modbus"
MQTT = "mqtt"


class PayloadInvalid(ValueError):
    """A job's payload does not fit its kind or the meter's profile; nothing was queued."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class JobFailed(Exception):
    """The job cannot succeed (the meter refused, the read-back differs); ``value`` names the
    profile value it is about, when there is one."""

    def __init__(self, reason: str, value: str = "") -> None:
        self.reason = reason
        self.value = value
        super().__init__(reason)


@dataclass(frozen=True)
class MeterFacts:
    """What a kind may know about its meter (plain data: no database on the bus loop)."""

    code: str
    transport: str
    unit: int
    profile: str
    timezone: str


@dataclass
class JobContext:
    """What ``JobKind.run`` works with. ``commander`` is set for MQTT meters only."""

    job_id: int
    payload: dict[str, Any]
    meter: MeterFacts
    profile: Profile
    device: MeterDevice
    commander: Any = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_mqtt(self) -> bool:
        return self.meter.transport == MQTT


class JobKind(abc.ABC):
    """Base of every kind. Subclasses set ``name``, ``label`` and ``priority`` and implement
    ``validate`` and ``run``; a kind whose effect must not happen twice sets ``repeat_safe``
    False and implements ``already_done``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    priority: ClassVar[Priority] = Priority.OPERATOR_WRITE
    transports: ClassVar[tuple[str, ...]] = (MODBUS, MQTT)
    repeat_safe: ClassVar[bool] = True
    reports_values: ClassVar[bool] = True  # result["values"] become the reported state
    default_ttl_s: ClassVar[int] = 15 * 60

    @abc.abstractmethod
    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        """The payload normalised for storing; PayloadInvalid naming the field if it is bad."""

    @abc.abstractmethod
    async def run(self, ctx: JobContext) -> dict[str, Any]:
        """Do it and prove it: the result (``{"values": {...}}`` read back, and anything else
        worth keeping). Raise JobFailed, or let a kpm37.errors exception through."""

    async def already_done(self, ctx: JobContext) -> dict[str, Any] | None:
        """After an attempt that may have reached the meter: read the meter's state and return
        the result if the effect is already there (nothing is sent again), None to send, or
        raise JobFailed when it cannot be known (then it is never sent twice)."""
        return None

    def finished(self, job: Any) -> None:
        """Called once the job is final (verified, failed, expired or cancelled), after the
        commit, on a thread with the database: update the app's own rows here (a tariff's
        sync state, a rollout's progress). An exception is logged, never raised."""
        return  # optional hook: most kinds keep no rows of their own

    def describe(self, payload: dict[str, Any]) -> str:
        """One line for pages and the CLI."""
        return f"{self.label}: {payload}"


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Make ``kind`` available to job_submit under ``kind.name``; a second kind with the same
    name is refused (two apps would otherwise silently fight over it)."""
    if not kind.name:
        raise ValueError("a job kind needs a name")
    existing = _KINDS.get(kind.name)
    if existing is not None and type(existing) is not type(kind):
        raise ValueError(f"job kind {kind.name!r} is already registered by {type(existing)}")
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    """The registered kind ``name``; PayloadInvalid("kind") if there is none."""
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise PayloadInvalid("kind", f"{name!r} is not a job kind (known: {known})") from None


JobListener = Callable[[Any], None]
_LISTENERS: list[JobListener] = []


def register_job_listener(listener: JobListener) -> None:
    """Call ``listener(job)`` whenever any job becomes final (after the commit); for the audit
    trail and notifications. Idempotent."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def job_listeners() -> list[JobListener]:
    return list(_LISTENERS)


def kind_names() -> list[str]:
    """Every registered kind, sorted."""
    return sorted(_KINDS)
