"""The conformance table (facts.csv): one row per documented fact, read for the tests.

Each row names its source and section, what it is about (a register address, a coil, a
choice code, a default, an MQTT topic and tag, or a behaviour), the documented type and unit,
the expected encoding or behaviour, what we assumed where the documents are silent, and the
profiles it holds for. The rows are the documents' word; the tests run them against both
profiles, against the simulator over real sockets, and against the platform's own code.
"""

from __future__ import annotations

import csv
import struct
from dataclasses import dataclass
from pathlib import Path

FACTS = Path(__file__).with_name("facts.csv")
COLUMNS = ["id", "source", "section", "kind", "where", "name", "type", "unit", "expected",
           "assumed", "profiles"]
KINDS = ("register", "coil", "choice", "default", "tag", "behaviour")


@dataclass(frozen=True)
class Fact:
    id: int
    source: str
    section: str
    kind: str
    where: str
    name: str
    type: str
    unit: str
    expected: str
    assumed: str
    profiles: tuple[str, ...]

    @property
    def address(self) -> int:
        """``"0042H"`` -> 0x42."""
        return int(self.where.removesuffix("H"), 16)

    @property
    def label(self) -> str:
        return f"{self.id}:{self.kind}:{self.where}:{self.name}"


def load_facts() -> list[Fact]:
    with FACTS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS, reader.fieldnames
        return [Fact(id=int(r["id"]), source=r["source"], section=r["section"], kind=r["kind"],
                     where=r["where"], name=r["name"], type=r["type"], unit=r["unit"],
                     expected=r["expected"], assumed=r["assumed"],
                     profiles=tuple(r["profiles"].split())) for r in reader]


def facts(kind: str) -> list[Fact]:
    return [f for f in load_facts() if f.kind == kind]


def per_profile(kind: str) -> list[tuple[str, Fact]]:
    """(profile name, fact) for every profile each fact of ``kind`` holds for."""
    return [(name, f) for f in facts(kind) for name in f.profiles]


def decode_documented(type_: str, words: list[int]) -> float | int:
    """Words as the documents describe them, without our codec: float32 big-endian (KPM33B
    §6.3, §6.4), or one 16-bit word."""
    if type_ == "float32":
        return float(struct.unpack(">f", struct.pack(">HH", *words))[0])
    return words[0]


WORDS = {"float32": 2, "u16": 1, "u32": 2, "bcd_clock": 3, "ascii": 7}
