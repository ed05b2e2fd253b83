"""What the editor template draws: inputs with their names and errors, and the preview
(24-hour bars per day table, the year calendar, hours per rate for a year and a month)."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from kpm37.tou import TariffSet
from tariffs import schedule
from tariffs.choices import RATE_COLOURS, RateChoice
from tariffs.document import ParseResult

SET_TITLES = ("Active set", "Standby set")


def field(name: str, value: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"name": name, "value": "" if value is None else value,
            "error": "; ".join(errors.get(name, []))}


def build_fields(raw: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The form's inputs, each named after its place in the document."""
    def f(name: str, value: Any) -> dict[str, Any]:
        return field(name, value, errors)

    head = {key: f(key, raw.get(key)) for key in
            ("name", "currency", "billing_day", "timezone", "profile", "note",
             "switch_zones_at", "switch_day_tables_at")}
    rates = []
    raw_rates = raw.get("rates") if isinstance(raw.get("rates"), dict) else {}
    for choice in RateChoice:
        used = str(choice.value) in raw_rates
        spec = _dict(raw_rates.get(str(choice.value)))
        place = f"rates.{choice.value}"
        later = [{"valid_from": f(f"{place}.later_prices[{i}].valid_from",
                                  _dict(p).get("valid_from")),
                  "price": f(f"{place}.later_prices[{i}].price", _dict(p).get("price")),
                  "index": i}
                 for i, p in enumerate(_list(spec.get("later_prices")))]
        rates.append({"number": choice.value, "label": choice.label, "colour": choice.colour,
                      "used": used, "place": f(place, None),
                      "name": f(f"{place}.name", spec.get("name", choice.label)),
                      "price": f(f"{place}.price", spec.get("price", "")), "later": later})
    sets = [_set_fields(i, raw_set, errors) for i, raw_set in enumerate(_list(raw.get("sets")))]
    return {"head": head, "rates": rates, "sets": sets[:2],
            "errors_outside": _errors_outside(errors, head)}


def _set_fields(index: int, raw_set: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    place = f"sets[{index}]"
    raw_set = raw_set if isinstance(raw_set, dict) else {}
    zones = [{"index": i, "start": field(f"{place}.zones[{i}].start", z.get("start"), errors),
              "day_table": field(f"{place}.zones[{i}].day_table", z.get("day_table"), errors),
              "row": field(f"{place}.zones[{i}]", None, errors)}
             for i, z in enumerate(_list(raw_set.get("zones"))) if isinstance(z, dict)]
    tables = []
    tables_raw = raw_set.get("day_tables") if isinstance(raw_set.get("day_tables"), dict) else {}
    for number, periods in tables_raw.items():
        at = f"{place}.day_tables.{number}"
        rows = [{"index": i, "start": field(f"{at}[{i}].start", p.get("start"), errors),
                 "rate": field(f"{at}[{i}].rate", p.get("rate"), errors),
                 "known": p.get("rate") in (1, 2, 3, 4, 5),
                 "row": field(f"{at}[{i}]", None, errors)}
                for i, p in enumerate(_list(periods)) if isinstance(p, dict)]
        tables.append({"number": number, "place": field(at, None, errors), "periods": rows})
    return {"index": index, "title": SET_TITLES[index % 2], "place": field(place, None, errors),
            "zones_place": field(f"{place}.zones", None, errors),
            "tables_place": field(f"{place}.day_tables", None, errors),
            "zones": zones, "tables": tables}


def _errors_outside(errors: dict[str, list[str]], head: dict[str, Any]) -> list[str]:
    """Errors with no input of their own to sit beside (e.g. the whole document)."""
    return [f"{place}: {'; '.join(reasons)}" for place, reasons in errors.items()
            if place in ("document", "sets", "rates") or
            (not place.startswith(("sets[", "rates.")) and place not in head)]


def build_preview(result: ParseResult, year: int, month: int) -> dict[str, Any]:
    """Bars for every readable day table; calendar and hours only once the plan is valid."""
    preview: dict[str, Any] = {
        "valid": result.document is not None, "errors": result.error_dict,
        "error_count": len(result.errors), "year": year, "month": f"{year:04d}-{month:02d}",
        "legend": [{"label": c.label, "colour": c.colour, "number": c.value}
                   for c in RateChoice],
        "sets": [{"title": SET_TITLES[i], "tables": _bars(s)} for i, s in
                 enumerate(result.sets)],
    }
    document = result.document
    if document is None:
        return preview
    program, zone = document.program(), zoneinfo.ZoneInfo(document.timezone)
    first, last = schedule.month_bounds(year, month)
    month_hours = schedule.hours_per_rate(program, first, last, zone)
    year_hours = schedule.hours_per_rate(program, date(year, 1, 1), date(year, 12, 31), zone)
    preview["hours"] = [
        {"label": RateChoice(rate).label, "name": document.rates[rate].name
         if rate in document.rates else "", "colour": RATE_COLOURS[rate],
         "year": year_hours[rate], "month": month_hours[rate]}
        for rate in range(1, 6) if year_hours[rate] or rate in document.rates]
    preview["hours_total"] = {"year": sum(year_hours.values()),
                              "month": sum(month_hours.values())}
    preview["timezone"] = document.timezone
    preview["calendar"] = _calendar(program, year)
    preview["gradients"] = {f"s{i}t{n}": _gradient(slots) for i, s in enumerate(document.sets)
                            for n, slots in s.day_tables.items()}
    return preview


def _bars(tariff: TariffSet) -> list[dict[str, Any]]:
    return [{"number": n, "segments": [
        {"left": round(seg.percent_left, 3), "width": round(seg.percent_width, 3),
         "rate": seg.rate, "colour": RATE_COLOURS[seg.rate], "label": seg.label,
         "rate_label": RateChoice(seg.rate).label} for seg in schedule.day_segments(slots)]}
        for n, slots in sorted(tariff.day_tables.items())]


def _gradient(slots: list[Any]) -> str:
    stops = [f"{RATE_COLOURS[seg.rate]} {seg.percent_left:.2f}% "
             f"{seg.percent_left + seg.percent_width:.2f}%"
             for seg in schedule.day_segments(slots)]
    return f"linear-gradient(to right, {', '.join(stops)})"


def _calendar(program: Any, year: int) -> list[dict[str, Any]]:
    months = schedule.year_calendar(program, year)
    return [{"name": date(year, i + 1, 1).strftime("%b"),
             "days": [{"day": d.day.day, "iso": d.day.isoformat(),
                       "key": f"s{d.set_index}t{d.table}",
                       "title": f"{d.day.isoformat()}: {SET_TITLES[d.set_index].lower()}, "
                                f"day table {d.table}"} for d in days]}
            for i, days in enumerate(months)]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
