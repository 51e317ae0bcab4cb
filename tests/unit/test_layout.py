"""The layout of docs/architecture.md holds: imports point one way, vendor code stays in its
connector, and no product module grows past 400 lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.layout_rules import PRODUCT, violations

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def test_imports_point_one_way() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("path", "line", "expected"),
    [
        ("storage/queue.py", "from sync.model import Contract", "storage must not import"),
        ("handlers/home.py", "from app.wiring import build_runtime", "handlers must not import"),
        ("sync/ops/audit.py", "    from app.wiring import open_database",
         "sync.ops must not import"),
        ("sync/engine/post.py", "from sync.ops import alerts", "sync.engine must not import"),
        ("sync/contracts/terms.py", "from storage.db import transaction",
         "sync.contracts must not import"),
        ("sync/engine/billing_events.py", "from sync.connectors.stripe_objects import to_invoice",
         "sync.engine must not import"),
        ("sync/revenue/schedule.py", "from sync.ledger import Ledger",
         "sync.revenue must not import"),
        ("sync/money.py", "from sync.contracts import terms", "sync.shared must not import"),
        ("sync/engine/webhooks.py", "import stripe", "imports vendor code stripe"),
        ("sandbox/book.py", "from sync.money import to_minor", "sandbox must not import"),
    ],
)
def test_a_planted_back_edge_is_reported(
    tmp_path: Path, path: str, line: str, expected: str
) -> None:
    for top in PRODUCT:
        shutil.copytree(ROOT / top, tmp_path / top,
                        ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.pem"))
    target = tmp_path / path
    body = target.read_text()
    if line.startswith("    "):  # a lazy import inside a function counts too
        body += f"\n\ndef _planted() -> None:\n{line}\n"
    else:
        body = f"{line}\n{body}"
    target.write_text(body)
    found = violations(tmp_path)
    assert len(found) == 1 and expected in found[0], found


def test_no_product_module_over_400_lines() -> None:
    long = [f"{p.relative_to(ROOT)}: {n} lines"
            for top in ("app", "handlers", "sync", "storage")
            for p in sorted((ROOT / top).rglob("*.py"))
            if "migrations" not in p.parts
            and (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []
