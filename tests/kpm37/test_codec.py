"""Codec: every register type round-trips; bad values are refused before encoding."""

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpm37.codec import decode, decode_block, encode, validate
from kpm37.errors import ValueOutOfRange
from kpm37.profile import Register, load_profile


def reg(type_: str, **kw: object) -> Register:
    words = {"u16": 1, "s16": 1, "u32": 2, "s32": 2, "float32": 2, "bcd_clock": 3, "bit": 1}
    table = "coil" if type_ == "bit" else "holding"
    return Register(name="x", address=0, table=table, type=type_,
                    words=int(kw.pop("words", words.get(type_, 4))),  # type: ignore[call-overload]
                    access="rw", group="parameter", **kw)  # type: ignore[arg-type]


INT_RANGES = {"u16": (0, 0xFFFF), "s16": (-0x8000, 0x7FFF), "u32": (0, 0xFFFFFFFF),
              "s32": (-0x80000000, 0x7FFFFFFF)}


@pytest.mark.parametrize("type_", INT_RANGES)
@pytest.mark.parametrize("order", ["big", "little"])
def test_integers_round_trip(type_: str, order: str) -> None:
    register = reg(type_, word_order=order)

    @settings(deadline=None)
    @given(st.integers(*INT_RANGES[type_]))
    def check(value: int) -> None:
        words = encode(register, value)
        assert all(0 <= w <= 0xFFFF for w in words) and len(words) == register.words
        assert decode(register, words) == value

    check()


@settings(deadline=None)
@given(st.integers(1, 60000))
def test_scaled_u16_round_trips(raw: int) -> None:
    register = reg("u16", scale=0.1, minimum=0.1, maximum=6000.0)
    value = raw / 10
    assert decode(register, encode(register, value)) == pytest.approx(value)


@pytest.mark.parametrize("order", ["big", "little"])
def test_float32_round_trips(order: str) -> None:
    register = reg("float32", word_order=order)

    @settings(deadline=None)
    @given(st.floats(width=32, allow_nan=False, allow_infinity=False))
    def check(value: float) -> None:
        assert decode(register, encode(register, value)) == value

    check()


def test_float32_word_order_matters() -> None:
    big, little = reg("float32"), reg("float32", word_order="little")
    assert encode(big, 230.0) == [0x4366, 0x0000]
    assert encode(little, 230.0) == [0x0000, 0x4366]


@settings(deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=14))
def test_ascii_round_trips(text: str) -> None:
    register = reg("ascii", words=7)
    assert decode(register, encode(register, text)) == text


def test_ascii_strips_trailing_nuls_and_spaces() -> None:
    register = reg("ascii", words=3)
    assert decode(register, [0x4142, 0x2000, 0x0000]) == "AB"


@settings(deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)))
def test_bcd_clock_round_trips(moment: datetime) -> None:
    register = reg("bcd_clock")
    moment = moment.replace(microsecond=0)
    assert decode(register, encode(register, moment)) == moment


def test_bcd_clock_layout_and_unset() -> None:
    register = reg("bcd_clock")
    assert encode(register, datetime(2026, 1, 17, 21, 15, 9)) == [0x2601, 0x1721, 0x1509]
    assert decode(register, [0, 0, 0]) is None
    with pytest.raises(ValueOutOfRange, match="not BCD"):
        decode(register, [0x2A01, 0x0101, 0x0000])
    with pytest.raises(ValueOutOfRange, match="not a valid date"):
        decode(register, [0x2613, 0x0101, 0x0000])


@settings(deadline=None)
@given(st.booleans())
def test_bits_round_trip(value: bool) -> None:
    assert decode(reg("bit"), encode(reg("bit"), value)) is value


@pytest.mark.parametrize(("register", "value", "reason"), [
    (reg("u16", minimum=1, maximum=28), 29, "above the maximum 28"),
    (reg("u16", minimum=1, maximum=28), 0, "below the minimum 1"),
    (reg("u16", choices={100: "100 V", 220: "220 V"}), 230, "not one of 100 (100 V)"),
    (reg("u16"), "5", "expected a number, got str"),
    (reg("u16"), True, "expected a number, got bool"),
    (reg("u16"), 70000, "does not fit a u16"),
    (reg("u16", scale=0.1), 0.05, "not a multiple of the step 0.1"),
    (reg("float32"), float("nan"), "finite"),
    (reg("ascii", words=2), "toolong", "at most 4"),
    (reg("ascii", words=2), "é", "ASCII"),
    (reg("bcd_clock"), "2026-01-01", "expected a date and time"),
    (reg("bcd_clock"), datetime(1999, 1, 1), "outside 2000..2099"),
    (reg("bit"), 2, "expected on/off"),
])
def test_validate_names_field_and_reason(register: Register, value: object, reason: str) -> None:
    with pytest.raises(ValueOutOfRange) as info:
        validate(register, value)
    assert info.value.field == "x" and reason in info.value.reason


def test_read_only_register_is_not_writable() -> None:
    voltage = load_profile("kpm37").register("voltage_a")
    with pytest.raises(ValueOutOfRange, match="voltage_a: is read-only"):
        validate(voltage, 230.0)


def test_decode_block_decodes_registers_fully_inside() -> None:
    profile = load_profile("kpm37")
    words = [0] * 10
    words[0:2] = encode(profile.register("voltage_a"), 231.5)
    words[8:10] = encode(profile.register("current_b"), 4.25)
    out = decode_block(profile, "holding", 0x0030, words)
    assert out["voltage_a"] == 231.5 and out["current_b"] == 4.25
    assert set(out) == {"voltage_a", "voltage_b", "voltage_c", "current_a", "current_b"}
    partial = decode_block(profile, "holding", 0x0031, words[1:])
    assert "voltage_a" not in partial
