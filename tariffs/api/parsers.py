"""The plan API's JSON parser: bounded in size and depth before json.loads sees the body."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from tariffs.document import MAX_BYTES, DocumentTooLarge, loads_bounded


class PlanJSONParser(JSONParser):
    """A body over the size limit, nested too deep, or not UTF-8 JSON is a 400 naming why."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        if stream is None:
            raise ParseError("the request has no body")
        raw = stream.read(MAX_BYTES + 1)
        try:
            return loads_bounded(raw)
        except DocumentTooLarge as exc:
            raise ParseError(str(exc)) from exc
