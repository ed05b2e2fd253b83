"""An embedded MQTT 3.1.1 broker (amqtt) for the demo and for tests that need no Mosquitto.

``python -m kpm37.broker [--host 127.0.0.1] [--port 1883]`` serves until interrupted;
``async with embedded_broker() as url:`` runs one on a free port for the length of a block.
amqtt speaks MQTT 3.1.1 only, so everything that must work on it (the simulator, the ingest,
the commander) connects with 3.1.1 or falls back to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from amqtt.broker import Broker

# Only anonymous authentication: the $SYS and packet-logging plugins of amqtt's default set
# cost CPU on every packet and publish nothing our code reads.
_PLUGINS = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}


def broker_config(host: str, port: int) -> dict[str, Any]:
    """amqtt configuration for one plain TCP listener on ``host:port``."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": _PLUGINS,
    }


def bound_port(broker: Broker) -> int:
    """The TCP port the broker's listener actually bound (useful after asking for port 0)."""
    server = broker._servers["default"].instance  # amqtt exposes no public accessor
    sockets = getattr(server, "sockets", None) or ()
    for sock in sockets:
        return int(sock.getsockname()[1])
    raise RuntimeError("embedded broker has no bound socket")


@contextlib.asynccontextmanager
async def embedded_broker(port: int = 0, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run an amqtt broker for the block and yield its URL, ``mqtt://host:port``."""
    broker = Broker(broker_config(host, port))
    await broker.start()
    try:
        yield f"mqtt://{host}:{bound_port(broker)}"
    finally:
        await broker.shutdown()


async def serve(host: str, port: int) -> None:
    """Run the broker until cancelled."""
    async with embedded_broker(port=port, host=host) as url:
        logging.getLogger(__name__).warning("embedded MQTT 3.1.1 broker listening on %s", url)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Embedded MQTT 3.1.1 broker (amqtt).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=1883, help="TCP port (0 picks a free one)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port: {args.port} is not a TCP port (0-65535)")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
