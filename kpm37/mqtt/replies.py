"""Replies from V1.9 meters: matched to their command by oprid, ``code`` "01" or "02"."""

from __future__ import annotations

from dataclasses import dataclass, field

from kpm37.errors import WriteRefused
from kpm37.mqtt.errors import PayloadError
from kpm37.mqtt.payload import decode_object, to_number

SUCCESS = "01"
FAILURE = "02"


@dataclass(frozen=True)
class Reply:
    """One reply packet. ``fields`` holds every other tag, lower-cased, as received."""

    topic: str
    oprid: str
    code: str | None
    msg: str
    fields: dict[str, object]
    raw: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        """True unless the meter answered with failure code "02" (or another non-"01")."""
        return self.code in (None, SUCCESS)

    @property
    def is_last_packet(self) -> bool:
        """True if this packet carries ``"isend":"1"``."""
        return str(self.fields.get("isend", "")) == "1"


def parse_reply(payload: bytes | str, topic: str) -> Reply:
    """Parse a reply packet; PayloadError if it has no oprid to match it by."""
    data = {k.lower(): v for k, v in decode_object(payload).items()}
    oprid = data.pop("oprid", None)
    if not isinstance(oprid, str) or not oprid:
        raise PayloadError("oprid", "missing from reply")
    code = data.pop("code", None)
    msg = data.pop("msg", "")
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    return Reply(topic, oprid, None if code is None else str(code), str(msg), data, raw)


def raise_for_refusal(reply: Reply) -> Reply:
    """Return the reply if it succeeded, else raise WriteRefused with the meter's message."""
    if not reply.ok:
        reason = reply.msg or "no reason given"
        raise WriteRefused(f"{reply.topic}: meter answered code {reply.code}: {reason}")
    return reply


def value_list(reply: Reply) -> list[float]:
    """The ``value`` of a SYS_REPLY, ``"6666;1;2"`` -> [6666.0, 1.0, 2.0]."""
    text = reply.fields.get("value")
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise PayloadError("value", f"missing or not a value list: {text!r}")
    parts = [p for p in str(text).split(";") if p.strip()]
    return [to_number("value", p.strip()) for p in parts]
