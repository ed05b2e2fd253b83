"""Our own Modbus stack on asyncio: PDUs, MBAP and RTU framing, a master, and transports.

Owning the framing lets us control bus timing exactly and act as master on a socket the meter
opened to us (4G/WiFi "Modbus-RTU transparent"), which off-the-shelf clients cannot do.
"""

from kpm37.modbus.master import ModbusMaster
from kpm37.modbus.transports import (
    LoraTransport,
    ModbusTcpTransport,
    RtuOverTcpTransport,
    SerialTransport,
    open_transport,
)

__all__ = [
    "LoraTransport",
    "ModbusMaster",
    "ModbusTcpTransport",
    "RtuOverTcpTransport",
    "SerialTransport",
    "open_transport",
]
