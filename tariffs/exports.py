"""A plan version as the JSON file people download and import elsewhere."""

from __future__ import annotations

import json
import re

from tariffs.models import TariffPlanVersion


def export_text(version: TariffPlanVersion) -> str:
    return json.dumps(version.document, indent=2, ensure_ascii=False) + "\n"


def export_filename(version: TariffPlanVersion) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", version.plan.name.lower()).strip("-") or "plan"
    return f"{slug[:60]}-v{version.number}.json"
