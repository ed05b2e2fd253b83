"""One bus, one request at a time: the scheduler every piece of device work for a gateway uses.

It keeps one frame in flight, honours the gateway's frame gap, lets priority work (relay
commands) go out at the very next frame ahead of queued bulk reads (and, between those, orders
work by rank: operator writes before rollout writes before billing reads before routine
polls), and backs off from units that time out so a dead meter costs one timeout, not one per
queued request. Each gateway gets its own scheduler; many run side by side in one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from kpm37.errors import DeviceTimeout, ModbusExceptionResponse
from kpm37.modbus import pdu
from kpm37.transport import Transport


class UnitSkipped(DeviceTimeout):
    """The unit timed out recently and is being skipped until its backoff expires."""


@dataclass
class BusStats:
    """Counters for measuring a bus against its physical limit."""

    frames: int = 0
    request_bytes: int = 0
    response_bytes: int = 0
    busy_seconds: float = 0.0
    timeouts: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def wire_bytes(self) -> int:
        """RTU bytes that crossed the RS485 segment, both directions."""
        return self.request_bytes + self.response_bytes

    def wire_seconds(self, baud: int, bits_per_char: int = 11) -> float:
        """Pure character time of those bytes: the physical floor for the work done."""
        return self.wire_bytes * bits_per_char / baud


@dataclass
class _Backoff:
    failures: int = 0
    until: float = 0.0


@dataclass
class _Job:
    request: pdu.Request
    future: asyncio.Future[pdu.Result] = field(repr=False)


URGENT = 0
"""Rank of relay commands: the next frame, never skipped for a backed-off unit."""
BULK = 4
"""Rank of routine polls, and of ``priority=False``."""
RANKS = range(URGENT, BULK + 1)


def _rank(priority: bool | int) -> int:
    if isinstance(priority, bool):
        return URGENT if priority else BULK
    if priority not in RANKS:
        raise ValueError(f"priority: rank {priority!r} is not in {URGENT}..{BULK}")
    return priority


def rtu_bytes(request: pdu.Request) -> tuple[int, int]:
    """RTU bytes on the wire for ``request`` and its normal answer."""
    if request.function == pdu.READ_HOLDING_REGISTERS:
        return 8, 5 + 2 * request.count
    if request.function == pdu.READ_COILS:
        return 8, 5 + (request.count + 7) // 8
    if request.function == pdu.WRITE_MULTIPLE_REGISTERS:
        return 9 + 2 * len(request.values), 8
    return 8, 8


class BusScheduler:
    """Serialises all requests to one gateway through ``transport``.

    ``frame_gap`` is the silence the meters need between frames (manual: at least 100 ms).
    A unit that times out is skipped for ``backoff`` seconds, doubling per consecutive timeout
    up to ``max_backoff``; requests for it meanwhile fail at once with :class:`UnitSkipped`.
    Priority requests are never skipped.

    ``priority`` is True (rank 0, the relay lane), False (rank 4, routine polls) or a rank
    0-4; the lowest rank waiting goes next, first come first served within a rank.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        frame_gap: float = 0.1,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "bus",
    ) -> None:
        if frame_gap < 0 or backoff < 0 or max_backoff < backoff:
            raise ValueError("frame_gap/backoff/max_backoff: must be >= 0 and max >= backoff")
        self.transport = transport
        self.frame_gap = frame_gap
        self.backoff, self.max_backoff = backoff, max_backoff
        self.clock = clock
        self.name = name
        self.stats = BusStats()
        self._lanes: list[deque[_Job]] = [deque() for _ in RANKS]
        self._wake = asyncio.Event()
        self._units: dict[int, _Backoff] = {}
        self._last_end = float("-inf")
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def queued(self) -> int:
        """Requests waiting for the bus."""
        return sum(len(lane) for lane in self._lanes)

    def skipped_until(self, unit: int) -> float | None:
        """When ``unit`` will be tried again (clock time), or None if it is not backed off."""
        state = self._units.get(unit)
        return state.until if state and state.until > self.clock() else None

    async def submit(self, request: pdu.Request, priority: bool | int = False) -> pdu.Result:
        """Queue ``request`` at ``priority`` (see the class) and wait for its result (or its
        kpm37.errors exception)."""
        if self._closed:
            raise RuntimeError(f"{self.name}: scheduler is closed")
        job = _Job(request, asyncio.get_running_loop().create_future())
        self._lanes[_rank(priority)].append(job)
        self._ensure_worker()
        self._wake.set()
        return await job.future

    async def read_registers(
        self, unit: int, address: int, count: int, *, priority: bool | int = False
    ) -> list[int]:
        """FC 03 through the bus queue."""
        result = await self.submit(pdu.read_registers(unit, address, count), priority)
        return [int(v) for v in result or []]

    async def write_registers(
        self, unit: int, address: int, values: list[int], *, priority: bool | int = False
    ) -> None:
        """FC 16 through the bus queue."""
        await self.submit(pdu.write_registers(unit, address, values), priority)

    async def read_coils(
        self, unit: int, address: int, count: int, *, priority: bool | int = False
    ) -> list[bool]:
        """FC 01 through the bus queue."""
        result = await self.submit(pdu.read_coils(unit, address, count), priority)
        return [bool(v) for v in result or []]

    async def write_coil(
        self, unit: int, address: int, value: bool, *, priority: bool | int = True
    ) -> None:
        """FC 05 through the bus queue; relay commands are priority unless told otherwise."""
        await self.submit(pdu.write_coil(unit, address, value), priority)

    async def close(self) -> None:
        """Fail queued work, stop the worker and close the transport."""
        self._closed = True
        for lane in self._lanes:
            for job in lane:
                if not job.future.done():
                    job.future.set_exception(RuntimeError(f"{self.name}: scheduler closed"))
            lane.clear()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.transport.close()

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"{self.name} scheduler")

    async def _run(self) -> None:
        while not self._closed:
            if not self.queued:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._wait_for_gap()
            job = self._next_job()
            if job is not None:
                await self._execute(job)

    async def _wait_for_gap(self) -> None:
        remaining = self._last_end + self.frame_gap - self.clock()
        if remaining > 0:
            await asyncio.sleep(remaining)

    def _next_job(self) -> _Job | None:
        """The next job to put on the wire, failing fast the ones for backed-off units."""
        while lane := next((lane for lane in self._lanes if lane), None):
            urgent = lane is self._lanes[URGENT]
            job = lane.popleft()
            if job.future.done():
                continue  # the caller gave up (cancelled) before its turn
            until = self.skipped_until(job.request.unit)
            if until is not None and not urgent:
                self.stats.skipped += 1
                job.future.set_exception(UnitSkipped(
                    f"{self.name}: unit {job.request.unit} timed out recently; "
                    f"skipped for another {until - self.clock():.1f} s"
                ))
                continue
            return job
        return None

    async def _execute(self, job: _Job) -> None:
        request = job.request
        started = self.clock()
        answered = False
        try:
            result = await self._call(request)
        except DeviceTimeout as exc:
            self._note_timeout(request.unit)
            _settle(job, exc=exc)
        except ModbusExceptionResponse as exc:
            self._units.pop(request.unit, None)  # a refusal still proves the meter is alive
            self.stats.errors += 1
            _settle(job, exc=exc)
        except Exception as exc:  # every failure goes to the caller, the bus carries on
            self.stats.errors += 1
            _settle(job, exc=exc)
        else:
            answered = True
            self._units.pop(request.unit, None)
            _settle(job, result=result)
        finally:
            self._last_end = self.clock()
            self._count(request, self._last_end - started, answered)

    async def _call(self, request: pdu.Request) -> pdu.Result:
        t, unit, addr = self.transport, request.unit, request.address
        if request.function == pdu.READ_HOLDING_REGISTERS:
            return await t.read_registers(unit, addr, request.count)
        if request.function == pdu.READ_COILS:
            return await t.read_coils(unit, addr, request.count)
        if request.function == pdu.WRITE_SINGLE_COIL:
            await t.write_coil(unit, addr, bool(request.values[0]))
        else:
            await t.write_registers(unit, addr, list(request.values))
        return None

    def _note_timeout(self, unit: int) -> None:
        self.stats.timeouts += 1
        state = self._units.setdefault(unit, _Backoff())
        state.failures += 1
        delay = min(self.backoff * 2 ** (state.failures - 1), self.max_backoff)
        state.until = self.clock() + delay

    def _count(self, request: pdu.Request, busy: float, answered: bool) -> None:
        out, back = rtu_bytes(request)
        self.stats.frames += 1
        self.stats.request_bytes += out
        self.stats.response_bytes += back if answered else 0
        self.stats.busy_seconds += busy


def _settle(job: _Job, *, result: pdu.Result = None, exc: BaseException | None = None) -> None:
    if job.future.done():
        return
    if exc is not None:
        job.future.set_exception(exc)
    else:
        job.future.set_result(result)
