"""Loading profiles: find the YAML file, expand its compact constructs, check, build.

The loader expands ``run`` (consecutive registers) and ``repeat`` (tables such as TOU entries and
history), then has :mod:`kpm37.profile_checks` check the whole map. Import the public functions
from :mod:`kpm37.profile`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kpm37.errors import ProfileError
from kpm37.profile_checks import (
    check_map,
    check_mqtt,
    check_mqtt_scale,
    int_field,
    make_block,
    make_password_rule,
    make_register,
    make_tou_sizes,
)
from kpm37.profile_model import TYPE_WORDS, Profile

PROFILE_DIR = Path(__file__).parent / "profiles"


def profile_names() -> list[str]:
    """Names of the profiles shipped in ``kpm37/profiles/``."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name (cached) or any profile file by path (not cached)."""
    if isinstance(name_or_path, Path) or str(name_or_path).endswith((".yaml", ".yml")):
        return _load_file(Path(name_or_path))
    return _load_named(str(name_or_path))


@cache
def _load_named(name: str) -> Profile:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ProfileError(f"profile name {name!r} may use only a-z, 0-9 and _")
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"no profile named {name!r}; shipped: {', '.join(profile_names())}")
    return _load_file(path)


def _load_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path.name}: cannot read profile: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path.name}: a profile must be a mapping at top level")
    try:
        return _build_profile(data)
    except ProfileError as exc:
        raise ProfileError(f"{path.name}: {exc}") from None


def _build_profile(data: dict[str, Any]) -> Profile:
    defaults = dict(data.get("defaults") or {})
    registers = [make_register(raw, defaults) for raw in _expand(data.get("registers") or [])]
    blocks = [make_block(raw) for raw in data.get("read_blocks") or []]
    check_map(registers, blocks)
    rule = make_password_rule(data)
    if rule.register is not None and rule.register not in {r.name for r in registers}:
        raise ProfileError(f"password register {rule.register!r} is not a register")
    return Profile(
        name=str(data.get("name", "")), model=str(data.get("model", "")),
        description=str(data.get("description", "")),
        source_note=str(data.get("source_note", "")),
        registers=registers, read_blocks=blocks, password_register=rule.register,
        password_first=rule.first_in_write, protected_groups=rule.protected_groups,
        password_rule=rule, tou_sizes=make_tou_sizes(data.get("tou_sizes")),
        mqtt=check_mqtt(data.get("mqtt") or {}),
        mqtt_scale=check_mqtt_scale(data.get("mqtt_scale") or {}),
        max_read=int(data.get("max_read", 125)), max_write=int(data.get("max_write", 123)),
    )


# --- expansion of the compact constructs -------------------------------------------------------

def _expand(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise ProfileError(f"register entry {item!r} is not a mapping")
        if "run" in item:
            out += _expand_run(item)
        elif "repeat" in item:
            out += _expand_repeat(item["repeat"])
        else:
            out.append(item)
    return out


def _expand_run(item: dict[str, Any]) -> list[dict[str, Any]]:
    """``{run: {start, type, ...}, names: [a, b, ...]}``: registers laid end to end."""
    common = dict(item["run"])
    address = int_field(common.pop("start", None), "run start")
    out = []
    for name in item.get("names") or []:
        words = common.get("words") or TYPE_WORDS.get(str(common.get("type", "u16"))) or 1
        if name is not None:  # None leaves a gap of one register's width
            out.append({**common, "name": name, "address": address})
        address += int(words)
    return out


def _expand_repeat(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A table: ``name`` template formatted with the indices, one register per field."""
    spec = dict(spec)
    template = str(spec.pop("name"))
    base = int_field(spec.pop("start", None), f"repeat {template} start")
    dims = spec.pop("dims")
    first = int(spec.pop("index_from", 1))
    fields = spec.pop("fields", None) or [{"suffix": None, "offset": 0}]
    out: list[dict[str, Any]] = []
    for indices, offset in _index_grid(dims, first):
        prefix = template.format(*indices)
        for fld in fields:
            fld = dict(fld)
            suffix = fld.pop("suffix", None)
            name = f"{prefix}_{suffix}" if suffix else prefix
            address = base + offset + int(fld.pop("offset", 0))
            out.append({"label": name.replace("_", " "), **spec, **fld,
                        "name": name, "address": address})
    return out


def _index_grid(dims: list[list[int]], first: int) -> list[tuple[tuple[int, ...], int]]:
    grid: list[tuple[tuple[int, ...], int]] = [((), 0)]
    for count, stride in dims:
        grid = [((*idx, first + i), off + i * stride) for idx, off in grid for i in range(count)]
    return grid

