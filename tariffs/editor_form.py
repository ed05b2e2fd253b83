"""The editor's form: its inputs are named after the places in the plan document
(``sets[0].day_tables.2[3].start``), so an error's place is the name of the input it marks.

The form becomes a raw document (values as typed, numbers where they look like numbers) that
:func:`tariffs.document.parse_plan` then checks; row actions (add a period, remove a zone ...)
work on that raw document before it is drawn again.
"""

from __future__ import annotations

import contextlib
import copy
import re
from typing import Any

from django.http import QueryDict

_RATE = re.compile(r"rates\.([1-5])\.(used|name|price)")
_LATER = re.compile(r"rates\.([1-5])\.later_prices\[(\d{1,2})\]\.(valid_from|price)")
_ZONE = re.compile(r"sets\[([01])\]\.zones\[(\d{1,2})\]\.(start|day_table)")
_PERIOD = re.compile(r"sets\[([01])\]\.day_tables\.(\d{1,2})\[(\d{1,2})\]\.(start|rate)")
SCALARS = ("name", "currency", "billing_day", "timezone", "profile", "note",
           "switch_zones_at", "switch_day_tables_at")
NUMBERS = ("billing_day", "day_table", "rate")
BLANK_SET: dict[str, Any] = {"zones": [{"start": "01-01", "day_table": 1}],
                             "day_tables": {"1": [{"start": "00:00", "rate": 3}]}}
STARTER: dict[str, Any] = {
    "name": "", "currency": "CNY", "billing_day": 1, "timezone": "Asia/Shanghai",
    "profile": "kpm37", "note": "",
    "rates": {"2": {"name": "Peak", "price": "1.0"}, "3": {"name": "Flat", "price": "0.6"},
              "4": {"name": "Valley", "price": "0.3"}},
    "sets": [copy.deepcopy(BLANK_SET), copy.deepcopy(BLANK_SET)],
    "switch_zones_at": None, "switch_day_tables_at": None,
}


def form_to_raw(data: QueryDict) -> dict[str, Any]:
    """The plan document as the form spells it; only names the editor draws are read."""
    raw: dict[str, Any] = {key: _number(key, data[key]) for key in SCALARS if key in data}
    for key in ("switch_zones_at", "switch_day_tables_at"):
        raw[key] = raw.get(key) or None
    rates: dict[str, dict[str, Any]] = {}
    later: dict[str, dict[int, dict[str, Any]]] = {}
    sets: list[dict[str, Any]] = [{"zones": {}, "day_tables": {}}, {"zones": {}, "day_tables": {}}]
    for key, value in data.items():
        if match := _RATE.fullmatch(key):
            rates.setdefault(match[1], {})[match[2]] = value
        elif match := _LATER.fullmatch(key):
            later.setdefault(match[1], {}).setdefault(int(match[2]), {})[match[3]] = value
        elif match := _ZONE.fullmatch(key):
            row = sets[int(match[1])]["zones"].setdefault(int(match[2]), {})
            row[match[3]] = _number(match[3], value)
        elif match := _PERIOD.fullmatch(key):
            table = sets[int(match[1])]["day_tables"].setdefault(match[2], {})
            table.setdefault(int(match[3]), {})[match[4]] = _number(match[4], value)
    raw["rates"] = {n: {"name": r.get("name", ""), "price": r.get("price", ""),
                        "later_prices": _ordered(later.get(n, {}))}
                    for n, r in sorted(rates.items()) if r.get("used")}
    raw["sets"] = [{"zones": _ordered(s["zones"]),
                    "day_tables": {n: _ordered(rows) for n, rows in
                                   sorted(s["day_tables"].items(), key=lambda kv: int(kv[0]))}}
                   for s in sets]
    return raw


def apply_action(raw: dict[str, Any], action: str) -> dict[str, Any]:
    """``raw`` after one row action such as ``add-period:0:2``; unknown actions change nothing."""
    raw = copy.deepcopy(raw)
    verb, _, rest = action.partition(":")
    args = [int(a) for a in rest.split(":") if a.isascii() and a.isdigit() and len(a) < 4]
    # A stale or forged action (a row that is gone, a verb we do not know) changes nothing.
    with contextlib.suppress(KeyError, IndexError, TypeError, ValueError, AttributeError):
        _ACTIONS[verb](raw, *args)
    return raw


def raw_to_form(raw: dict[str, Any]) -> dict[str, str]:
    """A document as the editor's form would post it (the inverse of :func:`form_to_raw`)."""
    form = {key: "" if raw.get(key) is None else str(raw[key]) for key in SCALARS}
    for number, rate in raw.get("rates", {}).items():
        form |= {f"rates.{number}.used": "1", f"rates.{number}.name": rate.get("name", ""),
                 f"rates.{number}.price": str(rate.get("price", ""))}
        for i, step in enumerate(rate.get("later_prices", [])):
            form |= {f"rates.{number}.later_prices[{i}].{k}": str(v) for k, v in step.items()}
    for s, tariff in enumerate(raw.get("sets", [])):
        for i, zone in enumerate(tariff.get("zones", [])):
            form |= {f"sets[{s}].zones[{i}].{k}": str(v) for k, v in zone.items()}
        for n, periods in tariff.get("day_tables", {}).items():
            for i, period in enumerate(periods):
                form |= {f"sets[{s}].day_tables.{n}[{i}].{k}": str(v) for k, v in period.items()}
    return form


def _add_period(raw: dict[str, Any], s: int, table: int) -> None:
    periods = raw["sets"][s]["day_tables"][str(table)]
    last = periods[-1]["start"] if periods else "00:00"
    periods.append({"start": _later_time(last), "rate": periods[-1]["rate"] if periods else 3})


def _add_table(raw: dict[str, Any], s: int) -> None:
    tables = raw["sets"][s]["day_tables"]
    free = next(n for n in range(1, 100) if str(n) not in tables)
    tables[str(free)] = [{"start": "00:00", "rate": 3}]


def _add_zone(raw: dict[str, Any], s: int) -> None:
    raw["sets"][s]["zones"].append({"start": "", "day_table": 1})


def _add_price(raw: dict[str, Any], rate: int) -> None:
    raw["rates"][str(rate)].setdefault("later_prices", []).append(
        {"valid_from": "", "price": raw["rates"][str(rate)].get("price", "")})


_ACTIONS: dict[str, Any] = {
    "add-period": _add_period,
    "remove-period": lambda raw, s, t, i: raw["sets"][s]["day_tables"][str(t)].pop(i),
    "add-table": _add_table,
    "remove-table": lambda raw, s, t: raw["sets"][s]["day_tables"].pop(str(t)),
    "add-zone": _add_zone,
    "remove-zone": lambda raw, s, i: raw["sets"][s]["zones"].pop(i),
    "copy-set": lambda raw, s: raw["sets"].__setitem__(1 - s, copy.deepcopy(raw["sets"][s])),
    "add-price": _add_price,
    "remove-price": lambda raw, r, i: raw["rates"][str(r)]["later_prices"].pop(i),
}


def _later_time(start: Any) -> str:
    match = re.fullmatch(r"(\d\d):(\d\d)", str(start))
    hour = min(int(match[1]) + 1, 23) if match else 12
    return f"{hour:02d}:00"


def _number(field: str, value: str) -> Any:
    value = value.strip()
    if field in NUMBERS and value.isascii() and value.isdigit() and len(value) < 6:
        return int(value)
    return value


def _ordered(rows: dict[int, Any]) -> list[Any]:
    return [rows[i] for i in sorted(rows)]
