"""Committed reference values of the PEP oracles (JSON), readable without the ``oracles`` extra."""

from __future__ import annotations

import json
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def golden_files() -> list[Path]:
    """The golden JSON files, sorted by name."""
    return sorted(GOLDEN_DIR.glob("*.json"))


def load_golden(name: str) -> dict:
    """Load ``golden/<name>.json`` (``name`` without the suffix); a clear error if it is missing."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain file stem, got {name!r}")
    path = GOLDEN_DIR / f"{name}.json"
    if not path.is_file():
        known = [p.stem for p in golden_files()]
        raise FileNotFoundError(f"no golden file {path.name!r}; known: {known}")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)
