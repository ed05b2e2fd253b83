"""The embedded amqtt broker: a free port, MQTT 3.1.1 only, and the command-line runner."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import pytest

from kpm37.broker import embedded_broker
from kpm37.errors import ConnectionLost
from kpm37.mqtt.link import MqttLink
from tests.kpm37.mqtt_helpers import run


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_embedded_broker_relays_messages_on_a_free_port_and_closes_it() -> None:
    async def scenario() -> None:
        got: list[tuple[str, bytes]] = []
        async with embedded_broker() as url:
            assert url.startswith("mqtt://127.0.0.1:") and port_of(url) > 0
            sub = MqttLink(url, lambda t, p: got.append((t, p)), protocol="3.1.1")
            pub = MqttLink(url, lambda t, p: None, protocol="auto")
            await sub.connect()
            await pub.connect()
            assert pub.protocol == "3.1.1"  # MQTT 5 refused, fell back
            await sub.subscribe("kpm/test")
            pub.publish("kpm/test", b"hello")
            async with asyncio.timeout(5):
                while not got:
                    await asyncio.sleep(0.02)
            await sub.close()
            await pub.close()
        assert got == [("kpm/test", b"hello")]
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port_of(url)), 1):
            pass

    run(scenario())


def test_embedded_broker_refuses_mqtt5_clients() -> None:
    async def scenario() -> None:
        async with embedded_broker() as url:
            link = MqttLink(url, lambda t, p: None, protocol="5", connect_timeout_s=3)
            with pytest.raises(ConnectionLost, match="MQTT 5"):
                await link.connect()

    run(scenario())


def test_command_line_broker_serves_until_interrupted() -> None:
    async def scenario() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kpm37.broker", "--port", "0",
            stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
        assert proc.stderr is not None
        try:
            async with asyncio.timeout(30):
                line = ""
                while "listening on" not in line:
                    line = (await proc.stderr.readline()).decode()
                    assert line, "broker exited before listening"
            url = line.split("listening on", 1)[1].strip()
            link = MqttLink(url, lambda t, p: None, protocol="3.1.1")
            await link.connect()
            await link.close()
            proc.send_signal(signal.SIGINT)
            async with asyncio.timeout(30):
                rest = await proc.stderr.read()
                assert await proc.wait() == 0, rest.decode()[-2000:]
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    run(scenario())


def test_command_line_refuses_a_bad_port_without_traceback() -> None:
    async def scenario() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kpm37.broker", "--port", "70000",
            stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
        _out, err = await proc.communicate()
        assert proc.returncode == 2
        assert b"--port" in err and b"Traceback" not in err

    run(scenario())
