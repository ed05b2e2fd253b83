"""Dead letters: what ingest could not take as a reading, kept bounded with the reason.

A dead letter keeps at most TELEMETRY_DEAD_LETTER_MAX_BYTES of its payload (the reason says
when it was cut and how long it was), a reason of at most REASON_LIMIT characters, and never a
copy of the payload inside the reason. Text columns cannot hold NUL characters in PostgreSQL,
so they are escaped: a hostile topic or reason can never make the dead letter itself fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from meters.telemetry import conf
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import DeadLetter

REASON_LIMIT = 1000


@dataclass(frozen=True)
class Rejected:
    """A packet or message that will not become a reading: kept as a dead letter with why."""

    topic: str
    payload: bytes
    reason: str
    kind: str = DeadLetterKind.MALFORMED
    meter_code: str = ""


def _text(value: str, limit: int) -> str:
    value = value.replace("\x00", "\\x00")
    return value if len(value) <= limit else f"{value[:limit - 3]}..."


def bounded(letter: Rejected, max_bytes: int, at: datetime) -> DeadLetter:
    """The DeadLetter row for ``letter``: payload cut to ``max_bytes``, texts bounded."""
    payload = bytes(letter.payload)
    note = ""
    if len(payload) > max_bytes:
        note = f" [payload cut to its first {max_bytes} of {len(payload)} bytes]"
        payload = payload[:max_bytes]
    return DeadLetter(kind=letter.kind, topic=_text(letter.topic, 200), payload=payload,
                      reason=_text(letter.reason, REASON_LIMIT - len(note)) + note,
                      meter_code=_text(letter.meter_code, 13), received_at=at)


def dead_letters_save(*, dead: list[Rejected], at: datetime) -> None:
    """Store dead letters, each bounded; part of the caller's transaction."""
    max_bytes = conf.get("TELEMETRY_DEAD_LETTER_MAX_BYTES")
    DeadLetter.objects.bulk_create([bounded(d, max_bytes, at) for d in dead])
