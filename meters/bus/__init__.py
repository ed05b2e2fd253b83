"""The bus of a gateway as a part of its own: its claim (one owner at a time) and its session
(the one scheduler polls and jobs share). Polling (meters.telemetry.polling) and meter jobs
(meters.jobs) both use it; import from here.
"""

from meters.bus.claims import Claim
from meters.bus.session import (
    BUS_KINDS,
    BusError,
    BusServer,
    BusSession,
    bus_servers,
    register_bus_server,
    transport_settings,
)

__all__ = ["BUS_KINDS", "BusError", "BusServer", "BusSession", "Claim", "bus_servers",
           "register_bus_server", "transport_settings"]
