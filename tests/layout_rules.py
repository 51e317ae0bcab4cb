"""The import rules of docs/architecture.md, as data, and a small AST walk that checks a tree.

Every import counts, including ones inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SHARED = {"model", "money", "dates", "errors", "ports", "ports_books", "ports_cash", "ports_bank",
          "ports_revenue"}
PRODUCT = ("app", "handlers", "sync", "storage", "sandbox")

# unit → the units it may import (besides itself and the standard library / third parties).
ALLOWED: dict[str, set[str]] = {
    "app": {"handlers", "sync.*", "storage", "sandbox"},
    "handlers": {"sync.*"},
    "storage": set(),
    "sandbox": set(),
    "sync": {"sync.shared"},  # the package's own __init__
    "sync.shared": set(),
    "sync.contracts": {"sync.shared"},
    "sync.revenue": {"sync.shared"},
    "sync.cash": {"sync.shared", "sync.revenue", "storage"},
    "sync.ledger": {"sync.shared", "sync.revenue", "storage"},
    "sync.connectors": {"sync.shared", "sync.ledger"},
    "sync.engine": {"sync.shared", "sync.contracts", "sync.revenue", "sync.cash", "storage"},
    "sync.ops": {"sync.shared", "sync.contracts", "sync.engine", "sync.cash", "storage"},
}
# Vendor SDKs and wire-level clients: the only units allowed to import each.
VENDORS: dict[str, set[str]] = {
    "stripe": {"sync.connectors", "sandbox"},
    "simple_salesforce": {"sync.connectors", "sandbox"},
    "oauthlib": {"sync.connectors", "sandbox"},
    "httpx": {"sync.connectors", "sandbox", "app"},
    "slack_bolt": {"app", "handlers"},
    "slack_sdk": {"app", "handlers", "sandbox"},
}


def unit_of(module: str) -> str | None:
    """`sync.engine.post` → `sync.engine`; `sync.money` → `sync.shared`; None for third parties."""
    parts = module.split(".")
    if parts[0] not in PRODUCT:
        return None
    if parts[0] != "sync":
        return parts[0]
    if len(parts) == 1:
        return "sync"
    return "sync.shared" if parts[1] in SHARED else f"sync.{parts[1]}"


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from sync import alerts` imports `sync.alerts`; `from sync.x import Name` imports x.
            for alias in node.names:
                yield node.lineno, (f"{node.module}.{alias.name}"
                                    if node.module in PRODUCT else node.module)


def _allowed(source: str, target: str) -> bool:
    if source == target or (target == "sync" and source.startswith("sync")):
        return True
    rules = ALLOWED[source]
    return target in rules or ("sync.*" in rules and target.startswith("sync"))


def violations(root: Path) -> list[str]:
    found = []
    for top in PRODUCT:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root)
            module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
            source = unit_of(module)
            if source is None or source not in ALLOWED:
                found.append(f"{rel}: no rule for {module} (add it to docs/architecture.md)")
                continue
            for line, name in _imports(ast.parse(path.read_text(), str(rel))):
                vendor = VENDORS.get(name.split(".")[0])
                if vendor is not None and source not in vendor:
                    found.append(f"{rel}:{line}: {source} imports vendor code {name}")
                target = unit_of(name)
                if target is not None and not _allowed(source, target):
                    found.append(f"{rel}:{line}: {source} must not import {name} ({target})")
    return found
