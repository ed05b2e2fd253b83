"""Planner: reads use the fewest legal frames (checked against a DP optimum); writes merge only
exact runs, validate first and put the password first; airtime follows PROTOCOL.md."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpm37.errors import ValueOutOfRange
from kpm37.planner import ReadFrame, WriteFrame, airtime, plan_airtime, plan_reads, plan_writes
from kpm37.profile import Profile, ReadBlock, Register, load_profile


@st.composite
def small_profiles(draw: st.DrawFn) -> tuple[Profile, list[str], int]:
    """Registers of width 1-2 with random gaps, split into random read blocks."""
    registers, blocks, address = [], [], 0
    block_start = 0
    for i in range(draw(st.integers(1, 14))):
        address += draw(st.integers(0, 4))
        width = draw(st.sampled_from([1, 2]))
        registers.append(Register(f"r{i}", address, type="u16" if width == 1 else "u32",
                                  words=width, group="x"))
        address += width
        if draw(st.booleans()) and draw(st.booleans()):  # close the block here
            blocks.append(ReadBlock("holding", block_start, address))
            address += draw(st.integers(0, 3))
            block_start = address
    if block_start < address:
        blocks.append(ReadBlock("holding", block_start, address))
    profile = Profile(name="t", model="t", description="", source_note="",
                      registers=registers, read_blocks=blocks, password_register=None,
                      password_first=False, protected_groups=(), mqtt={})
    wanted = draw(st.lists(st.sampled_from([r.name for r in registers]), min_size=1,
                           unique=True))
    return profile, wanted, draw(st.integers(2, 9))


def optimum(profile: Profile, names: list[str], span: int) -> int:
    """Dynamic programming over the sorted registers: fewest legal frames."""
    regs = sorted((profile.register(n) for n in names), key=lambda r: r.address)
    best = [0] + [10**9] * len(regs)
    for i in range(1, len(regs) + 1):
        for j in range(i):
            first, last = regs[j], regs[i - 1]
            legal = (last.end - first.address <= span
                     and profile.block_of("holding", first.address, last.end) is not None)
            if legal:
                best[i] = min(best[i], best[j] + 1)
    return best[-1]


@settings(max_examples=300, deadline=None)
@given(small_profiles())
def test_plan_reads_is_legal_complete_and_minimal(case: tuple[Profile, list[str], int]) -> None:
    profile, names, span = case
    frames = plan_reads(profile, names, max_span=span)
    covered = set()
    for frame in frames:
        assert frame.count <= span
        assert profile.block_of(frame.table, frame.start, frame.end) is not None
        for name in frame.names:
            reg = profile.register(name)
            assert frame.start <= reg.address and reg.end <= frame.end
            covered.add(name)
    assert covered == set(names)
    assert len(frames) == optimum(profile, names, span)


def test_kpm37_reads_merge_across_gaps_but_not_blocks() -> None:
    profile = load_profile("kpm37")
    frames = plan_reads(profile, ["voltage_a", "frequency", "import_active_energy",
                                  "import_active_energy_r1"])
    assert frames == [
        ReadFrame("holding", 0x0030, 52, ("voltage_a", "frequency")),
        ReadFrame("holding", 0x0082, 12, ("import_active_energy", "import_active_energy_r1")),
    ]


def test_reads_split_at_125_registers_and_coils_plan_separately() -> None:
    profile = load_profile("kpm37")
    history = [r.name for r in profile.by_group("history")]
    frames = plan_reads(profile, [*history, "do1", "do2"])
    assert all(f.count <= 125 for f in frames)
    assert sum(len(f.names) for f in frames) == len(history) + 2
    assert len([f for f in frames if f.table == "holding"]) == 3  # 312 words need 3 frames
    assert frames[-1] == ReadFrame("coil", 1, 2, ("do1", "do2"))


def test_write_only_register_or_too_narrow_span_cannot_be_read() -> None:
    with pytest.raises(ValueOutOfRange, match="clear_energy"):
        plan_reads(load_profile("kpm37"), ["clear_energy"])
    with pytest.raises(ValueOutOfRange, match="max_span: 1 is narrower than voltage_a"):
        plan_reads(load_profile("kpm37"), ["voltage_a"], max_span=1)


def test_writes_merge_exact_runs_only_with_password_frame_first() -> None:
    profile = load_profile("kpm37")
    frames = plan_writes(profile, {"ct_ratio": 40.0, "pt_ratio": 1.0, "billing_day": 5,
                                   "password": 6666, "do1": True})
    assert frames == [
        WriteFrame("holding", 0x0000, (6666,), ("password",)),
        WriteFrame("holding", 0x1003, (10, 400), ("pt_ratio", "ct_ratio")),
        WriteFrame("holding", 0x1011, (5,), ("billing_day",)),
        WriteFrame("coil", 0x0001, (1,), ("do1",)),
    ]


def test_password_first_profile_puts_password_in_the_same_frame() -> None:
    profile = load_profile("kpm33b")
    frames = plan_writes(profile, {"modbus_address": 7, "password": 6666})
    assert frames == [WriteFrame("holding", 0, (6666, 7), ("password", "modbus_address"))]


def test_any_bad_value_plans_nothing_and_names_the_field() -> None:
    profile = load_profile("kpm37")
    with pytest.raises(ValueOutOfRange) as info:
        plan_writes(profile, {"password": 6666, "ct_ratio": 40.0, "billing_day": 31})
    assert info.value.field == "billing_day" and "maximum 28" in info.value.reason
    with pytest.raises(ValueOutOfRange, match="voltage_a: is read-only"):
        plan_writes(profile, {"voltage_a": 1.0})


def test_protected_write_without_password_is_refused_by_the_planner() -> None:
    with pytest.raises(ValueOutOfRange) as info:
        plan_writes(load_profile("kpm37"), {"billing_day": 5})
    assert info.value.field == "password" and "billing_day" in info.value.reason


def test_long_contiguous_runs_split_at_123_words() -> None:
    profile = load_profile("kpm37")
    values = {r.name: 0 for r in profile.registers if r.name.startswith("tou_day_a_")}
    values["password"] = 6666
    frames = plan_writes(profile, values)
    assert all(f.count <= 123 for f in frames)
    assert sum(f.count for f in frames) == 336 + 1


def test_airtime_matches_the_protocol_numbers() -> None:
    read60 = ReadFrame("holding", 0, 60)
    # 133 bytes x 11 bits / 9600 + 2 x 3.5 chars: about 160 ms without the frame gap
    assert airtime(read60, 9600, frame_gap=0.0) == pytest.approx(0.1604, abs=0.0005)
    assert airtime(read60, 9600) == pytest.approx(0.2604, abs=0.0005)
    write = WriteFrame("holding", 0, (1, 2))
    assert airtime(write, 38400, frame_gap=0) == pytest.approx(
        (13 + 8) * 11 / 38400 + 2 * 0.00175)
    coil = ReadFrame("coil", 1, 2)
    assert airtime(coil, 9600, frame_gap=0) == pytest.approx((8 + 6) * 11 / 9600 + 7 * 11 / 9600)
    assert plan_airtime([read60, write], 9600, turnaround=0.01) == pytest.approx(
        airtime(read60, 9600, turnaround=0.01) + airtime(write, 9600, turnaround=0.01))
    with pytest.raises(ValueOutOfRange, match="baud"):
        airtime(read60, 0)
