"""Concrete transports: Modbus TCP, RTU over TCP, LoRa, local serial, and the factory.

Each is a :class:`~kpm37.modbus.master.ModbusMaster` with the right framer and a connector that
reopens the link on the next request after a drop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kpm37.modbus.framing import RtuFramer, SocketFramer
from kpm37.modbus.master import Connector, ModbusMaster, Streams
from kpm37.transport import Transport


def _tcp_connector(host: str, port: int) -> Connector:
    async def connect() -> Streams:
        return await asyncio.open_connection(host, port)

    return connect


class ModbusTcpTransport(ModbusMaster):
    """A Modbus TCP gateway (RS485 to Ethernet); the unit id is the meter's address."""

    def __init__(self, host: str, port: int = 502, timeout: float = 1.0) -> None:
        super().__init__(SocketFramer(), timeout=timeout, connect=_tcp_connector(host, port))
        self.host, self.port = host, port


class RtuOverTcpTransport(ModbusMaster):
    """A transparent serial server: RTU frames with CRC carried over TCP."""

    def __init__(self, host: str, port: int, timeout: float = 1.0) -> None:
        super().__init__(RtuFramer(), timeout=timeout, connect=_tcp_connector(host, port))
        self.host, self.port = host, port


class LoraTransport(ModbusMaster):
    """A LoRa receiver on a gateway's serial server: RTU over TCP with a slow radio hop.

    The radio adds seconds of latency and needs air between packets, hence the long default
    timeout and a pause before every request.
    """

    def __init__(
        self, host: str, port: int, timeout: float = 8.0, delay: float = 0.3
    ) -> None:
        super().__init__(
            RtuFramer(), timeout=timeout, connect=_tcp_connector(host, port), delay=delay
        )
        self.host, self.port = host, port


_PARITY = {"N": "N", "E": "E", "O": "O", "none": "N", "even": "E", "odd": "O"}


class SerialTransport(ModbusMaster):
    """A local RS485 adapter (single-site install) driven by pyserial-asyncio, framed as RTU."""

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        timeout: float = 1.0,
    ) -> None:
        if parity not in _PARITY:
            raise ValueError(f"parity: {parity!r} is not one of N, E, O")
        self.port = port
        self.serial_settings = {
            "baudrate": baudrate, "parity": _PARITY[parity], "stopbits": stopbits, "bytesize": 8,
        }
        super().__init__(RtuFramer(), timeout=timeout, connect=self._open)

    async def _open(self) -> Streams:
        import serial_asyncio

        reader, writer = await serial_asyncio.open_serial_connection(
            url=self.port, **self.serial_settings
        )
        return reader, writer


def open_transport(kind: str, **cfg: Any) -> Transport:
    """Build a transport: ``kind`` is modbus-tcp, rtu-over-tcp, lora, serial or dial-in.

    ``cfg`` holds the constructor arguments (host, port, timeout, ...); for dial-in it needs
    ``listener`` (a running DialInListener) and ``code`` (the meter's 13-character code).
    """
    builders: dict[str, Any] = {
        "modbus-tcp": ModbusTcpTransport,
        "rtu-over-tcp": RtuOverTcpTransport,
        "lora": LoraTransport,
        "serial": SerialTransport,
    }
    if kind == "dial-in":
        return _dial_in(**cfg)
    if kind not in builders:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join([*builders, 'dial-in'])}")
    try:
        transport: Transport = builders[kind](**cfg)
    except TypeError as exc:
        raise ValueError(f"{kind} settings: {exc}") from exc
    return transport


def _dial_in(listener: Any = None, code: str = "", **_: Any) -> Transport:
    from kpm37.modbus.dialin import DialInListener

    if not isinstance(listener, DialInListener):
        raise ValueError("listener: dial-in needs a running DialInListener")
    if not code:
        raise ValueError("code: dial-in needs the meter's 13-character code")
    return listener.transport(code)
