"""Plan documents: every invalid case is refused with its own message at its own place."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs.document import DocumentTooLarge, loads_bounded, parse_plan


def errors_of(doc: Any) -> dict[str, list[str]]:
    result = parse_plan(doc)
    assert result.document is None
    return result.error_dict


def test_the_guangdong_plan_is_valid_and_round_trips(guangdong: dict[str, Any]) -> None:
    document = parse_plan(guangdong).document
    assert document is not None
    assert document.to_json() == guangdong
    assert parse_plan(document.to_json()).document == document


@pytest.mark.parametrize(("change", "place", "words"), [
    (lambda d: d["sets"][0]["day_tables"]["2"][3].update(start="10:00"),
     "sets[0].day_tables.2[3].start", "already the start of entry [2]"),
    (lambda d: d["sets"][0]["day_tables"]["2"][3].update(start="09:00"),
     "sets[0].day_tables.2[3].start", "comes before"),
    (lambda d: d["sets"][1]["zones"][2].update(start="07-01"),
     "sets[1].zones[2].start", "already the start of entry [1]"),
    (lambda d: d["sets"][0]["day_tables"]["1"].extend(
        {"start": f"20:{m:02d}", "rate": 3} for m in range(9)),
     "sets[0].day_tables.1", "at most 14 periods"),
    (lambda d: d["sets"][0]["zones"].extend(
        {"start": f"12-{n:02d}", "day_table": 1} for n in range(2, 14)),
     "sets[0].zones", "at most 14 zones"),
    (lambda d: d["sets"][0]["day_tables"].update(
        {str(n): [{"start": "00:00", "rate": 3}] for n in range(3, 10)}),
     "sets[0].day_tables", "at most 8 day tables"),
    (lambda d: d["sets"][0]["day_tables"]["1"][0].update(rate=5),
     "sets[0].day_tables.1[0].rate", "rate 5 (deep valley) is not one of the plan's rates"),
    (lambda d: d["sets"][0]["day_tables"]["1"][0].update(rate=6),
     "sets[0].day_tables.1[0].rate", "6 is outside 1-5"),
    (lambda d: d["rates"].update({"6": {"name": "x", "price": "1"}}),
     "rates.6", "outside 1-5"),
    (lambda d: d["sets"][1]["zones"][1].update(day_table=3),
     "sets[1].zones[1].day_table", "day table 3 does not exist in this set"),
    (lambda d: d["sets"][0]["day_tables"]["1"][1].update(start="8:00"),
     "sets[0].day_tables.1[1].start", "not a time hh:mm"),
    (lambda d: d["sets"][0]["day_tables"]["1"][1].update(start="24:00"),
     "sets[0].day_tables.1[1].start", "not a time hh:mm"),
    (lambda d: d["sets"][0]["zones"][1].update(start="02-30"),
     "sets[0].zones[1].start", "not a day of the year"),
    (lambda d: d["sets"][0]["zones"][1].update(start="July 1"),
     "sets[0].zones[1].start", "not a date MM-DD"),
    (lambda d: d.update(billing_day=29), "billing_day", "29 is outside 1-28"),
    (lambda d: d.update(billing_day=0), "billing_day", "0 is outside 1-28"),
    (lambda d: d.update(billing_day="5"), "billing_day", "must be a whole number"),
    (lambda d: d["rates"]["2"].update(price="-0.1"), "rates.2.price", "cannot be negative"),
    (lambda d: d["rates"]["2"].update(price="1,2"), "rates.2.price", "not a decimal price"),
    (lambda d: d["rates"]["2"].update(price="NaN"), "rates.2.price", "not a decimal price"),
    (lambda d: d["rates"]["2"].update(price=True), "rates.2.price", "must be a decimal"),
    (lambda d: d["rates"]["3"].update(later_prices=[{"valid_from": "2027-02-30",
                                                     "price": "0.7"}]),
     "rates.3.later_prices[0].valid_from", "not a date"),
    (lambda d: d.update(switch_zones_at="2027-13-01T00:00"), "switch_zones_at", "not a date"),
    (lambda d: d.update(currency="yuan"), "currency", "ISO 4217"),
    (lambda d: d.update(name="Plan\x00"), "name", "control characters"),
    (lambda d: d.update(timezone="Mars/Olympus"), "timezone", "unknown time zone"),
    (lambda d: d.update(colour="red"), "colour", "unknown field"),
    (lambda d: d.update(sets=[d["sets"][0]]), "sets", "two sets"),
])
def test_each_invalid_case_names_its_place(guangdong: dict[str, Any], change: Any,
                                           place: str, words: str) -> None:
    change(guangdong)
    errors = errors_of(guangdong)
    assert place in errors, errors
    assert any(words in message for message in errors[place]), errors[place]


def test_a_price_change_in_the_year_applies_from_its_date(guangdong: dict[str, Any]) -> None:
    from datetime import date
    from decimal import Decimal

    guangdong["rates"]["3"]["later_prices"] = [{"valid_from": "2026-07-01", "price": "0.70"}]
    rate = parse_plan(guangdong).document.rates[3]  # type: ignore[union-attr]
    assert rate.price_on(date(2026, 6, 30)) == Decimal("0.650000")
    assert rate.price_on(date(2026, 7, 1)) == Decimal("0.70")


@pytest.mark.parametrize("hostile", [
    None, 5, "plan", [], [1, 2], {"sets": "x" * 10}, {"rates": [1]},
    {"name": ["a"], "currency": {}, "billing_day": 1.5, "rates": {"1": "x"}, "sets": [1, 2]},
    {"sets": [{"zones": [{"start": 101, "day_table": "1"}], "day_tables": {"1": {}}}] * 2},
    {"sets": [{"zones": [], "day_tables": {"\u0661": []}}] * 2},
])
def test_wrong_types_are_errors_not_exceptions(hostile: Any) -> None:
    result = parse_plan(hostile)
    assert result.document is None
    assert result.errors


def test_deep_nesting_and_huge_documents_are_refused_before_parsing() -> None:
    with pytest.raises(DocumentTooLarge, match="nested"):
        loads_bounded("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DocumentTooLarge, match="at most"):
        loads_bounded(" " * 300_000)
    with pytest.raises(DocumentTooLarge, match="not valid JSON"):
        loads_bounded('{"name": NaN}')
    nested: Any = {}
    for _ in range(50):
        nested = {"sets": nested}
    assert "document" in parse_plan(nested).error_dict


def test_errors_are_bounded_for_a_document_full_of_junk() -> None:
    junk = {f"field{n}": n for n in range(5000)}
    assert len(parse_plan(junk).errors) <= 100


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "rates", "sets", "zones", "day_tables", "start", "rate",
                         "day_table", "price", "1", "2", "later_prices", "billing_day"]),
        inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(document=JSON)
def test_any_json_is_checked_and_drawn_without_an_exception(document: Any) -> None:
    from tariffs.editor_view import build_fields, build_preview

    result = parse_plan(document)
    assert result.document is not None or result.errors
    if isinstance(document, dict):
        build_fields(document, result.error_dict)
    build_preview(result, 2026, 7)


def test_sizes_come_from_the_profile(guangdong: dict[str, Any]) -> None:
    # The KPM33B holds 4 zones, 4 day tables of 8 periods and 4 rates (its manual, §1).
    guangdong["profile"] = "kpm33b"
    guangdong["sets"][0]["day_tables"]["2"] = [{"start": f"{h:02d}:00", "rate": 3}
                                               for h in range(9)]
    guangdong["rates"]["5"] = {"name": "Deep valley", "price": "0.1"}
    errors = errors_of(guangdong)
    assert "at most 8 periods" in errors["sets[0].day_tables.2"][0]
    assert "beyond this profile's 4 rates" in errors["rates.5"][0]
    guangdong["profile"] = "kpm37"  # 14 periods and 5 rates: the same plan fits
    assert parse_plan(guangdong).document is not None
