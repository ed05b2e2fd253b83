"""What one attempt at a job came to, and how a device error becomes a job's reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kpm37.errors import (
    ConnectionLost,
    CrcError,
    DeviceError,
    DeviceTimeout,
    ModbusExceptionResponse,
    ProtocolError,
    ValueOutOfRange,
    WriteRefused,
    WrongUnit,
)
from meters.jobs.kinds import JobFailed

VERIFIED, FAILED, RETRY = "verified", "failed", "retry"
MODBUS_EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                     4: "server device failure", 5: "acknowledge", 6: "server device busy"}
# The meter may come back: these send the job back to the queue until it expires.
TRANSIENT = (DeviceTimeout, ConnectionLost, CrcError, ProtocolError, WrongUnit)


@dataclass
class Outcome:
    """``state`` is verified, failed, or retry (the meter did not answer: try again later)."""

    state: str
    result: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    failed_value: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    sent: bool = True  # whether anything of this attempt may have reached the meter


def outcome_of_error(exc: BaseException, names: list[str]) -> Outcome:
    """The failed (or retry) outcome for ``exc``; ``names`` are the values of the frame that
    failed, if known."""
    value = names[0] if names else ""
    about = f"{', '.join(names)}: " if names else ""
    if isinstance(exc, JobFailed):
        return Outcome(FAILED, failure=exc.reason, failed_value=exc.value)
    if isinstance(exc, ValueOutOfRange):
        return Outcome(FAILED, failure=f"{exc.field}: {exc.reason}", failed_value=exc.field)
    if isinstance(exc, ModbusExceptionResponse):
        meaning = MODBUS_EXCEPTIONS.get(exc.code, "unknown code")
        return Outcome(FAILED, failure=f"{about}refused by the meter with Modbus exception "
                       f"{exc.code} ({meaning})", failed_value=value)
    if isinstance(exc, TRANSIENT):
        kind = "timed out" if isinstance(exc, DeviceTimeout) else type(exc).__name__
        return Outcome(RETRY, failure=f"{about}{kind}: {exc}", failed_value=value)
    if isinstance(exc, WriteRefused | DeviceError):
        return Outcome(FAILED, failure=f"{about}refused by the meter: {exc}", failed_value=value)
    return Outcome(FAILED, failure=f"internal error: {type(exc).__name__}: {exc}")
