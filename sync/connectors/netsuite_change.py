"""A change order that lowers a contract, on NetSuite.

NetSuite refuses a transaction whose total is negative, so a decrease's change order can't be a
sales order of its own. It is posted as negative lines on the sales order of the version it
amends (the latest earlier one NetSuite holds), which then holds the contract's value as
amended. Each line's description starts with the change order line it carries, so a retry finds
it there and adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sync.errors import PermanentError
from sync.model import Contract

if TYPE_CHECKING:
    from sync.connectors.netsuite import NetSuiteErp

ORDER = "salesOrder"
KEPT = ("entity", "currency", "tranDate", "startDate", "endDate", "otherRefNum", "memo")


def amended_order(find: Callable[[str], str | None], contract: Contract, *, erp: str,
                  system: str) -> tuple[str, str]:
    """(key, id) of the sales order of the latest earlier version the ERP holds."""
    for version in range(contract.version - 1, 0, -1):
        key = f"{contract.opportunity_id}:v{version}"
        found = find(key)
        if found:
            return key, found
    raise PermanentError(
        f"The change order of {contract.name} lowers the contract, but {erp} holds no sales "
        "order of an earlier version to lower: post that version's sales order, then Retry.",
        system=system)


def lower_amended_order(ns: NetSuiteErp, contract: Contract, lines: list[dict[str, Any]]) -> str:
    """Add the change order's lines to the amended version's sales order; its id."""
    key, order_id = amended_order(lambda k: ns._find(ORDER, k), contract, erp="NetSuite",
                                  system="netsuite")
    record = ns._get(f"{ORDER}/{order_id}?expandSubResources=true")
    held = [{"item": {"id": str(line["item"]["id"])}, "description": line.get("description"),
             "quantity": line.get("quantity"), "amount": line.get("amount"),
             **{k: line[k] for k in ("revRecStartDate", "revRecEndDate") if line.get(k)}}
            for line in record["item"]["items"]]
    marked = [(o.line_id, line) for o, line in zip(contract.obligations, lines, strict=True)]
    new = [{**line, "description": f"{line_id}: {line['description']}"[:999]}
           for line_id, line in marked
           if not any(str(h["description"] or "").startswith(f"{line_id}: ") for h in held)]
    if not new:
        return order_id
    body = {name: record[name] for name in KEPT if record.get(name) is not None}
    for name in ("entity", "currency"):
        body[name] = {"id": str(record[name]["id"])}
    body["item"] = {"items": held + new}
    return str(ns._upsert(ORDER, key, body))


def lowers(contract: Contract) -> bool:
    return sum(o.amount_minor for o in contract.obligations) < 0

