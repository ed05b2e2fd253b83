"""Bounds on an untrusted plan document, checked before anything else looks at it."""

from __future__ import annotations

import json
from typing import Any

MAX_BYTES = 256 * 1024      # a full plan at the largest profile is ~40 KB of JSON
MAX_DEPTH = 10              # the plan's own shape is 6 deep
MAX_STRING = 2000           # the note; names are shorter still
MAX_ERRORS = 100            # a hostile document gets the first hundred, not a megabyte


class DocumentTooLarge(ValueError):
    """The text is not a plan at all: too big, too deep, or not JSON."""


def loads_bounded(text: str | bytes) -> Any:
    """Parse JSON text that came from outside, refusing what would be costly to parse."""
    if len(text) > MAX_BYTES:
        raise DocumentTooLarge(f"a plan file is at most {MAX_BYTES // 1024} KB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentTooLarge("a plan file must be UTF-8 text") from exc
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise DocumentTooLarge(f"JSON nested {depth} deep; a plan is at most {MAX_DEPTH} deep")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise DocumentTooLarge(f"not valid JSON: {exc}") from exc


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def value_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of already parsed JSON, stopping once past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
