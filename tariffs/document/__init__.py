"""Tariff plans as documents: the JSON shape of the API and files, checked and canonical."""

from tariffs.document.limits import MAX_BYTES, DocumentTooLarge, loads_bounded
from tariffs.document.model import PlanDocument, PriceStep, RateSpec, slot_start, zone_start
from tariffs.document.parse import ParseResult, parse_plan

__all__ = ["MAX_BYTES", "DocumentTooLarge", "ParseResult", "PlanDocument", "PriceStep",
           "RateSpec", "loads_bounded", "parse_plan", "slot_start", "zone_start"]
