"""Every row of the conformance table against both profiles: addresses, types, units and the
scale into the platform's units, ranges, choices, defaults and the MQTT tag mapping."""

from __future__ import annotations

import re

import pytest

from kpm37.profile import load_profile
from kpm37.quantities import QUANTITIES, unit_factor
from tests.conformance.facts import KINDS, WORDS, Fact, facts, load_facts, per_profile


def test_the_table_is_well_formed() -> None:
    rows = load_facts()
    assert len(rows) > 300
    assert [f.id for f in rows] == list(range(1, len(rows) + 1))
    for fact in rows:
        assert fact.kind in KINDS, fact
        assert fact.source and fact.section and fact.expected, fact
        assert set(fact.profiles) <= {"kpm33b", "kpm37"} and fact.profiles, fact
    tags = [(f.where, f.name) for f in facts("tag")]
    assert len(tags) == len(set(tags))  # one row per topic and tag


@pytest.mark.parametrize(("profile", "fact"), per_profile("register"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_register_row(profile: str, fact: Fact) -> None:
    reg = load_profile(profile).register_at("holding", fact.address)
    assert reg is not None, f"{profile} has no register at {fact.where}"
    assert reg.name == fact.name
    assert reg.type == fact.type and reg.words == WORDS[fact.type]
    quantity = QUANTITIES.get(reg.name)
    if fact.unit:
        assert reg.unit == fact.unit, "the register's unit is the one the meter serves"
    if quantity is not None:
        # the platform keeps its own unit; the scale carries the documented unit into it
        assert reg.scale == pytest.approx(unit_factor(fact.unit, quantity.unit))
    limits = re.match(r"range (\d+)-(\d+)", fact.expected)
    if limits:
        assert (reg.minimum, reg.maximum) == (float(limits[1]), float(limits[2]))
    assert "KPM33B manual V3.4" in reg.source, "the register names the document it follows"
    if fact.assumed:  # what the documents leave open, the profile says it assumed
        assert "assumed" in reg.source, (reg.source, fact.assumed)


@pytest.mark.parametrize(("profile", "fact"), per_profile("choice"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_choice_row(profile: str, fact: Fact) -> None:
    code, label = fact.expected.split("=", 1)
    reg = load_profile(profile).register_at("holding", fact.address)
    assert reg is not None and reg.name == fact.name and reg.choices
    assert label in reg.choices[int(code, 16)]
    if fact.assumed:
        assert "assumed" in reg.choices[int(code, 16)], "an assumed code says so"


@pytest.mark.parametrize(("profile", "fact"), per_profile("default"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_default_row(profile: str, fact: Fact) -> None:
    reg = load_profile(profile).register_at("holding", fact.address)
    assert reg is not None and reg.name == fact.name
    assert reg.default == int(fact.expected.split()[0], 16)


@pytest.mark.parametrize(("profile", "fact"), per_profile("coil"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_coil_row(profile: str, fact: Fact) -> None:
    reg = load_profile(profile).register_at("coil", fact.address)
    assert reg is not None and reg.name == fact.name and reg.type == "bit"
    assert reg.writable and reg.readable


@pytest.mark.parametrize(("profile", "fact"), per_profile("tag"),
                         ids=lambda x: x if isinstance(x, str) else x.label)
def test_tag_row(profile: str, fact: Fact) -> None:
    prof = load_profile(profile)
    assert prof.mqtt[fact.where].get(fact.name) == fact.expected
    quantity = QUANTITIES[fact.expected]
    # quantity = tag value x factor: V1.9's unit carried into the platform's
    assert prof.mqtt_scale.get(fact.name, 1.0) == pytest.approx(
        unit_factor(fact.unit, quantity.unit))


@pytest.mark.parametrize("profile", ["kpm33b", "kpm37"])
def test_every_mapped_tag_has_a_documented_row(profile: str) -> None:
    rows = {(f.where, f.name) for f in facts("tag") if profile in f.profiles}
    mapped = {(topic, tag) for topic, tags in load_profile(profile).mqtt.items() for tag in tags}
    assert mapped == rows
