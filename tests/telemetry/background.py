"""Background helpers for tests that need a broker or simulated MQTT meters on real sockets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kpm37.broker import embedded_broker


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll ``check`` every 0.1 s until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class LoopThread:
    """An asyncio loop in a daemon thread: run coroutines from synchronous test code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def amqtt_url() -> Iterator[str]:
    """An embedded amqtt (MQTT 3.1.1 only) broker on a free port, in a background thread."""
    ready: list[str] = []
    stop = threading.Event()

    async def serve() -> None:
        async with embedded_broker(port=0) as url:
            ready.append(url)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert wait_until(lambda: bool(ready), 15)
    yield ready[0]
    stop.set()
    thread.join(timeout=10)
