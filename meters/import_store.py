"""Validated import files kept server-side under var/imports/ between preview and confirm."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600


def _directory() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def keep(chunks: Iterable[bytes]) -> tuple[str, Path]:
    """Store the file given as ``chunks`` (an upload's ``chunks()``, so it is never held
    whole); return the token that finds it again, and the path; old files are dropped."""
    directory = _directory()
    cutoff = time.time() - KEEP_SECONDS
    for old in directory.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    path = directory / f"{token}.csv"
    with path.open("wb") as kept:
        for chunk in chunks:
            kept.write(chunk)
    return token, path


def path_of(token: str) -> Path | None:
    """The file kept under ``token``, or None if the token is malformed, used or expired."""
    if not TOKEN.match(token):
        return None
    path = _directory() / f"{token}.csv"
    return path if path.exists() else None


def discard(token: str) -> None:
    if TOKEN.match(token):
        (_directory() / f"{token}.csv").unlink(missing_ok=True)
