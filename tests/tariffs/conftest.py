"""Tariff test fixtures: the Guangdong industrial plan as shipped, and a fresh copy to break."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "tariffs" / "fixtures"
GUANGDONG = FIXTURES / "guangdong-industrial-tou-2021.json"


@pytest.fixture
def guangdong() -> dict[str, Any]:
    """A fresh copy of the Guangdong industrial plan document (safe to modify)."""
    return copy.deepcopy(json.loads(GUANGDONG.read_text()))
