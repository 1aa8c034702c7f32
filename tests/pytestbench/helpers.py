"""Reading what the inner pytest runs leave behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def benchmarks_json(path: Path) -> dict[str, Any]:
    """pytest-benchmark's JSON, its benchmarks keyed by test name."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {b["name"]: b for b in doc["benchmarks"]}
