"""Typed device errors. Every fault on the wire surfaces as one of these, never as a hang."""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every error raised while talking to a meter or gateway."""


class DeviceTimeout(DeviceError):
    """No (complete) answer arrived within the transport's timeout."""


class CrcError(DeviceError):
    """An RTU frame arrived whose CRC does not match its contents."""


class ModbusExceptionResponse(DeviceError):
    """The meter answered with a Modbus exception (function code | 0x80)."""

    def __init__(self, function: int, code: int) -> None:
        self.function = function
        self.code = code
        super().__init__(f"Modbus exception {code:#04x} for function {function:#04x}")


class WriteRefused(DeviceError):
    """The meter (or its MQTT reply) refused a write, or a value failed profile validation."""


class WrongUnit(DeviceError):
    """An answer came from another unit id than the one asked."""


class ProtocolError(DeviceError):
    """A reply that is malformed: wrong length, wrong function, unparseable payload."""


class ConnectionLost(DeviceError):
    """The link to the gateway or meter dropped or could not be opened."""


class ProfileError(ValueError):
    """A profile file is invalid (overlap, unknown type, address out of range, ...)."""


class ValueOutOfRange(ValueError):
    """A value to be written lies outside the profile's range or choices; nothing was sent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
