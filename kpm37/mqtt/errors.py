"""The one error a malformed MQTT V1.9 payload raises: it names the field and the reason."""

from __future__ import annotations

from kpm37.errors import ProtocolError


class PayloadError(ProtocolError, ValueError):
    """A payload (or one of its fields) that cannot be read as Compere MQTT V1.9."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        # A tag name is payload text too: a 60 kB name must not become a 60 kB message.
        shown = field if len(field) <= 64 else f"{field[:61]}..."
        super().__init__(f"{shown}: {reason}")
