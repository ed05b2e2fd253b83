"""Gateway lease on the real Redis: two OS processes share one simulated gateway, never at once.

Run as a module (``python -m tests.kpm37.test_lease worker ...``) this file is the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from kpm37.lease import GatewayLease, LeaseTaken

ROOT = Path(__file__).resolve().parents[2]
FENCE_REGISTER = 10


async def _work(args: argparse.Namespace) -> dict[str, object]:
    import redis

    from kpm37.modbus import ModbusTcpTransport

    lease = GatewayLease(redis.Redis.from_url(args.redis), "gw", ttl_ms=2000, prefix=args.prefix)
    loop = asyncio.get_running_loop()
    deadline, polls, fences = loop.time() + args.seconds, 0, []
    while loop.time() < deadline:
        fence = lease.acquire()
        if fence is None:
            await asyncio.sleep(0.02)
            continue
        fences.append(fence)
        transport = ModbusTcpTransport("127.0.0.1", args.port, timeout=2.0)
        try:
            # Stamp the work with our fencing token, then poll while the lease is ours.
            await transport.write_registers(1, FENCE_REGISTER, [fence])
            for _ in range(args.hold):
                if not lease.renew():
                    break
                await transport.read_registers(1, 0, 2)
                polls += 1
        finally:
            await transport.close()  # hang up before releasing: no request may outlive the lease
            lease.release()
        await asyncio.sleep(0.05)
    return {"polls": polls, "fences": fences}


def _worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    for name, kind in (("--port", int), ("--redis", str), ("--prefix", str),
                       ("--seconds", float), ("--hold", int)):
        parser.add_argument(name, type=kind, required=True)
    print(json.dumps(asyncio.run(_work(parser.parse_args(argv)))))


async def _run_workers(port: int, redis: str, prefix: str) -> list[dict[str, list[int] | int]]:
    cmd = [sys.executable, "-m", "tests.kpm37.test_lease", "worker", "--port", str(port),
           "--redis", redis, "--prefix", prefix, "--seconds", "3", "--hold", "8"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            *cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 40)
    assert [p.returncode for p in procs] == [0, 0]
    return [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]


@pytest.mark.services
def test_two_processes_take_turns_on_one_gateway() -> None:
    from kpm37.simulator.bank import RegisterBank
    from kpm37.simulator.gateway import RequestRecord, start_gateway
    from tests.services import redis_url

    url, prefix = redis_url(), f"test:{uuid.uuid4().hex}:"
    bank = RegisterBank(1)

    async def scenario() -> tuple[list[dict[str, list[int] | int]], list[RequestRecord]]:
        _, port, gateway = await start_gateway([bank], baud=9600)
        try:
            return await _run_workers(port, url, prefix), gateway.log
        finally:
            await gateway.stop()

    results, log = asyncio.run(scenario())
    assert all(r["polls"] for r in results), results  # both made progress
    records = sorted(log, key=lambda r: r.received)
    overlaps = [(a, b) for a, b in itertools.pairwise(records) if b.received < a.ended]
    assert not overlaps, overlaps[:3]
    connections = [r.connection for r in records]
    handovers = sum(1 for a, b in itertools.pairwise(connections) if a != b)
    assert handovers >= 3  # ownership passed back and forth, not one process then the other
    stamps = [values[0] for address, values in bank.writes if address == FENCE_REGISTER]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    all_fences = sorted(f for r in results for f in r["fences"])  # type: ignore[union-attr]
    assert stamps == all_fences


@pytest.mark.services
def test_lease_refuses_a_second_owner_and_only_the_owner_releases() -> None:
    import redis

    from tests.services import redis_url

    client = redis.Redis.from_url(redis_url())
    prefix = f"test:{uuid.uuid4().hex}:"
    first = GatewayLease(client, "gw7", ttl_ms=5000, prefix=prefix)
    second = GatewayLease(client, "gw7", ttl_ms=5000, prefix=prefix)
    try:
        token = first.acquire()
        assert token is not None and first.is_current(token)
        assert second.acquire() is None
        assert not second.release()  # not the owner: the lease stays
        assert first.renew()
        with pytest.raises(LeaseTaken):
            second.__enter__()
        assert first.release()
        with second:
            assert second.fence == token + 1 and not first.is_current(token)
        assert not first.renew()
    finally:
        client.delete(first.owner_key, first.fence_key)


def test_lease_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="ttl_ms"):
        GatewayLease(None, "gw", ttl_ms=5)
    with pytest.raises(ValueError, match="gateway"):
        GatewayLease(None, "")


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker_main(sys.argv[2:])
