"""The API's body parsers (DRF's default): bounded size and nesting, and no NUL characters.

Every write endpoint takes its body through these, so no view can be reached by a JSON body
nested deep enough to raise RecursionError (in the parser, a serializer or json.dumps) or by
text holding a NUL character, which PostgreSQL can neither store nor compare. Both answer 400
naming the field.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

MAX_DEPTH = 32
NUL_MESSAGE = "contains a NUL character (0x00), which is not text"
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def _too_deep_field(raw: bytes) -> str | None:
    """The top-level field whose value nests deeper than MAX_DEPTH ("body" at the top), or
    None; a scan of brackets outside strings, so it cannot recurse however deep the body."""
    depth, field = 0, "body"
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token[0] in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return field
        elif token[0] in _CLOSE:
            depth -= 1
        elif depth == 1:
            field = token[1:-1].decode("utf-8", "replace")  # a key, or a value before the next
    return None


def _strings(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every key and string value in ``data`` with the path that names it (iteratively)."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                yield name, str(key)
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))


def refuse_nul(data: Any) -> None:
    """Raise a 400 naming every field whose key or text holds a NUL character."""
    bad = {where or "body": [NUL_MESSAGE] for where, text in _strings(data) if "\x00" in text}
    if bad:
        raise ValidationError(bad)


def refuse_nul_in_form(data: Any) -> None:
    """As refuse_nul, for a QueryDict: a repeated name is named once, without an index."""
    bad = {key or "body": [NUL_MESSAGE] for key in data
           if "\x00" in key or any("\x00" in value for value in data.getlist(key)
                                   if isinstance(value, str))}
    if bad:
        raise ValidationError(bad)


class GuardedJSONParser(JSONParser):
    """JSON bodies of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes and MAX_DEPTH levels."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(f"the body is larger than the limit of {limit} bytes")
        field = _too_deep_field(raw)
        if field is not None:
            raise ValidationError({field: [f"nested deeper than {MAX_DEPTH} levels"]})
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # not reachable after the scan; never a 500 regardless
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
        refuse_nul(data)
        return data


class GuardedFormParser(FormParser):
    """Form bodies whose names and values hold no NUL character."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        refuse_nul_in_form(data)
        return data


class GuardedMultiPartParser(MultiPartParser):
    """Multipart bodies whose field names and values hold no NUL character."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul_in_form(parsed.data)
        return parsed
