"""MqttTransport: the register-level Transport on top of V1.9 commands.

Registers travel as SYS_READ / SYS_CFG with type "1" (raw 16-bit words, at most 100 a
command), relays as TELECTRL (coil 1 -> do1, coil 2 -> do2). So the same profile, codec and
planner drive MQTT meters and Modbus meters alike. V1.9 has no relay read command: relay
state comes from the meter's MQTT_TELEIND messages and from confirmed TELECTRL replies.
"""

from __future__ import annotations

from collections.abc import Mapping

from kpm37.errors import ProtocolError, ValueOutOfRange
from kpm37.mqtt.client import MqttCommander
from kpm37.mqtt.commands import INT_TYPE, MAX_VALUES

RELAY_COILS = (1, 2)


class MqttTransport:
    """kpm37.transport.Transport for MQTT meters; ``code_by_unit`` maps unit -> meter code."""

    def __init__(self, commander: MqttCommander, code_by_unit: Mapping[int, str]) -> None:
        self.commander = commander
        self.code_by_unit = dict(code_by_unit)

    def code(self, unit: int) -> str:
        """The meter code behind ``unit``; ValueOutOfRange if none is configured."""
        try:
            return self.code_by_unit[unit]
        except KeyError:
            raise ValueOutOfRange("unit", f"no MQTT meter code for unit {unit}") from None

    async def read_registers(self, unit: int, address: int, count: int) -> list[int]:
        """Read ``count`` 16-bit words in SYS_READ commands of at most 100."""
        code = self.code(unit)
        words: list[int] = []
        for start, size in _chunks(address, count):
            values = await self.commander.read_registers(code, start, size, INT_TYPE)
            words += [_word(start + i, v) for i, v in enumerate(values)]
        return words

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """Write 16-bit words in SYS_CFG commands of at most 100."""
        code = self.code(unit)
        for start, size in _chunks(address, len(values)):
            chunk = values[start - address : start - address + size]
            await self.commander.write_registers(code, start, list(chunk), INT_TYPE)

    async def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        """Relay states as last reported by the meter (MQTT_TELEIND or a TELECTRL reply)."""
        code = self.code(unit)
        _check_coils(address, count)
        bits = self.commander.relay_bits(code)
        if bits is None:
            raise ProtocolError(f"{code}: relay state unknown until the meter sends MQTT_TELEIND")
        return [bool(bits >> (coil - 1) & 1) for coil in range(address, address + count)]

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """Switch relay ``address`` (1 = DO1, 2 = DO2) through TELECTRL."""
        code = self.code(unit)
        _check_coils(address, 1)
        await self.commander.set_relay(code, address, value)

    async def close(self) -> None:
        """The commander belongs to the caller, who closes it."""


def _chunks(address: int, count: int) -> list[tuple[int, int]]:
    if count < 1:
        raise ValueOutOfRange("count", f"must be at least 1, got {count}")
    return [(address + i, min(MAX_VALUES, count - i)) for i in range(0, count, MAX_VALUES)]


def _word(address: int, value: float) -> int:
    # Meters may print a signed 16-bit value; the register itself is the two's complement.
    if value != int(value) or not -0x8000 <= value <= 0xFFFF:
        raise ProtocolError(f"register {address:#06x}: {value!r} is not a 16-bit word")
    return int(value) & 0xFFFF


def _check_coils(address: int, count: int) -> None:
    if count < 1 or address not in RELAY_COILS or address + count - 1 not in RELAY_COILS:
        raise ValueOutOfRange("address", f"relay coils are 1 (DO1) and 2 (DO2), got "
                              f"{address}..{address + count - 1}")
