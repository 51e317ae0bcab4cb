"""The vendors' published reference files in `shared/reference/`, beside the checkout."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (ROOT.parent / "shared" / "reference", Path("/work/shared/reference"))


def reference_file(name: str) -> Path:
    """The first copy found; a path that doesn't exist when there is none (tests then skip)."""
    for folder in CANDIDATES:
        if (folder / name).exists():
            return folder / name
    return CANDIDATES[0] / name
