"""The planner's merged frames against naive one-register-per-frame reads, on the bus.

Both plans read the same quantities from one simulated meter behind a simulated Modbus TCP
gateway at 9600 baud (11-bit characters, 100 ms frame gap kept by the master), over a real
socket. Printed: frames, bus time the simulator measured, wall time, and the ratios naive/planned,
beside the planner's own air-time estimate for the same frames.
"""

from __future__ import annotations

import asyncio
import time

from kpm37.modbus.transports import ModbusTcpTransport
from kpm37.planner import ReadFrame, plan_airtime, plan_reads
from kpm37.profile import Profile, load_profile
from kpm37.simulator.codes import modbus_meter_code
from kpm37.simulator.gateway import start_gateway
from kpm37.simulator.meter import SimMeter

BAUD = 9600
FRAME_GAP_S = 0.1
GROUPS = ("measurement", "energy", "demand")


def naive_frames(profile: Profile, names: list[str]) -> list[ReadFrame]:
    """One frame per quantity, as a master that knows nothing of the register layout reads."""
    return [ReadFrame(reg.table, reg.address, reg.words, (reg.name,))
            for reg in (profile.register(name) for name in names)]


async def run_plan(frames: list[ReadFrame], profile: Profile) -> tuple[float, float]:
    """(bus seconds measured by the simulator, wall seconds) to read ``frames`` once."""
    meter = SimMeter(profile, code=modbus_meter_code(0, 1, 1), address=1)
    host, port, gateway = await start_gateway([meter], baud=BAUD)
    transport = ModbusTcpTransport(host, port, timeout=5.0)
    started = time.monotonic()
    try:
        for frame in frames:
            await transport.read_registers(1, frame.start, frame.count)
            await asyncio.sleep(FRAME_GAP_S)  # the manual's minimum silence between frames
        return gateway.busy_seconds, time.monotonic() - started
    finally:
        await transport.close()
        await gateway.stop()


def main() -> None:
    profile = load_profile("kpm37")
    names = [reg.name for group in GROUPS for reg in profile.by_group(group)
             if reg.readable and reg.table == "holding"]
    plans = {"planned": plan_reads(profile, names), "naive": naive_frames(profile, names)}
    print(f"reading {len(names)} quantities ({', '.join(GROUPS)}) at {BAUD} baud")
    figures = {}
    for label, frames in plans.items():
        bus, wall = asyncio.run(run_plan(frames, profile))
        estimate = plan_airtime(frames, BAUD, frame_gap=FRAME_GAP_S)
        figures[label] = (len(frames), bus, wall)
        print(f"  {label:8} {len(frames):4d} frames  bus {bus:6.2f} s  wall {wall:6.2f} s  "
              f"(planner's estimate incl. gaps {estimate:6.2f} s)")
    (pf, pb, pw), (nf, nb, nw) = figures["planned"], figures["naive"]
    print(f"  naive/planned: frames x{nf / pf:.1f}, bus time x{nb / pb:.1f}, "
          f"wall time x{nw / pw:.1f}")


if __name__ == "__main__":
    main()
