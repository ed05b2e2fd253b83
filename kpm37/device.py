"""One meter behind a bus: read named quantities, write named values, switch relays.

This is where profile, planner, codec and bus meet: callers speak in names ("voltage_a",
"ct_ratio"), the planner turns them into the fewest legal frames, the bus (a BusScheduler or a
bare Transport) moves them, and the codec turns words back into values. Writes are only
reported as applied once they have been read back and compared.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kpm37 import codec
from kpm37.errors import WriteRefused
from kpm37.planner import ReadFrame, WriteFrame, plan_reads, plan_writes
from kpm37.profile import Profile
from kpm37.quantities import QUANTITIES
from kpm37.transport import RegisterBus

LIVE_GROUPS = ("measurement", "energy", "demand", "status")


@dataclass(frozen=True)
class Mismatch:
    """A value that read back differently from what was written."""

    name: str
    wanted: Any
    got: Any


class VerifyFailed(WriteRefused):
    """The write was accepted on the wire but the read-back does not match."""

    def __init__(self, mismatches: list[Mismatch]) -> None:
        self.mismatches = mismatches
        detail = ", ".join(f"{m.name}: wrote {m.wanted!r}, read {m.got!r}" for m in mismatches)
        super().__init__(f"read-back differs: {detail}")


def live_quantities(profile: Profile) -> list[str]:
    """Names of the profile's registers that carry readings in the platform's vocabulary."""
    return [r.name for r in profile.registers
            if r.group in LIVE_GROUPS and r.name in QUANTITIES and r.readable]


class MeterDevice:
    """A meter at ``unit`` on ``bus``, described by ``profile``."""

    def __init__(self, bus: RegisterBus, profile: Profile, unit: int) -> None:
        self.bus = bus
        self.profile = profile
        self.unit = unit

    async def read(self, names: Iterable[str]) -> dict[str, Any]:
        """Read ``names`` in the fewest frames and return their decoded values."""
        values: dict[str, Any] = {}
        for frame in plan_reads(self.profile, names):
            values.update(await self._read_frame(frame))
        return values

    async def read_live(self) -> dict[str, Any]:
        """Every live quantity the profile knows (measurements, energies, demand, states)."""
        return await self.read(live_quantities(self.profile))

    async def write(self, values: dict[str, Any], *, verify: bool = True) -> dict[str, Any]:
        """Write ``values`` (validated before anything is sent), then read back and compare.

        Returns the values read back. Raises ValueOutOfRange before sending on a bad value,
        and VerifyFailed when the meter kept something else."""
        frames = plan_writes(self.profile, values)
        for frame in frames:
            await self._write_frame(frame)
        if not verify:
            return dict(values)
        readable = [n for n in values if self.profile.register(n).readable]
        got = await self.read(readable)
        mismatches = [Mismatch(n, values[n], got.get(n)) for n in readable
                      if not same_value(values[n], got.get(n))]
        if mismatches:
            raise VerifyFailed(mismatches)
        return got

    async def set_relay(self, name: str, on: bool) -> bool:
        """Switch relay ``name`` (e.g. "do1") and return the state read back."""
        reg = self.profile.register(name)
        codec.validate(reg, on)
        await self.bus.write_coil(self.unit, reg.address, bool(on))
        state = await self.read([name])
        return bool(state[name])

    async def _read_frame(self, frame: ReadFrame) -> dict[str, Any]:
        if frame.table == "coil":
            bits = await self.bus.read_coils(self.unit, frame.start, frame.count)
            return {n: bits[self.profile.register(n).address - frame.start] for n in frame.names}
        words = await self.bus.read_registers(self.unit, frame.start, frame.count)
        wanted = set(frame.names)
        block = codec.decode_block(self.profile, "holding", frame.start, words)
        return {n: v for n, v in block.items() if n in wanted}

    async def _write_frame(self, frame: WriteFrame) -> None:
        if frame.table == "coil":
            await self.bus.write_coil(self.unit, frame.start, bool(frame.words[0]))
        else:
            await self.bus.write_registers(self.unit, frame.start, list(frame.words))


def same_value(wanted: Any, got: Any) -> bool:
    """Whether a read-back equals what was written (floats to float32 precision)."""
    if isinstance(wanted, float) or isinstance(got, float):
        try:
            return math.isclose(float(wanted), float(got), rel_tol=1e-6, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return bool(wanted == got)
