"""Serve a simulated gateway's meters on a pseudo-terminal, as if on a local RS485 adapter.

The slave side's path (``/dev/pts/N``) is what a serial master opens; the simulator reads and
writes RTU frames on the master side. Used to test :class:`kpm37.modbus.SerialTransport`.
"""

from __future__ import annotations

import asyncio
import os
import tty

from kpm37.simulator.gateway import SimGateway


class PtyPort:
    """A pseudo-terminal whose far end is served by ``gateway`` (RTU framing)."""

    def __init__(self, gateway: SimGateway) -> None:
        if gateway.framer.name != "rtu":
            raise ValueError("gateway: a serial line carries RTU frames; use framer='rtu'")
        self.gateway = gateway
        self.path = ""
        self._fds: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._transports: list[asyncio.BaseTransport] = []

    async def open(self) -> str:
        """Create the pty, start serving, and return the device path for the master to open."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing: RTU is binary
        self.path = os.ttyname(slave)
        self._fds = [slave]
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", buffering=0)
        )
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(os.dup(master), "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(write_transport, protocol, reader, loop)
        self._transports = [read_transport, write_transport]
        self._task = asyncio.create_task(self.gateway.serve_streams(reader, writer))
        return self.path

    async def close(self) -> None:
        """Stop serving and release the pty."""
        if self._task is not None:
            self._task.cancel()
        for transport in self._transports:
            transport.close()
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
