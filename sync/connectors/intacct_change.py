"""A change order that lowers a contract (or changes none of its lines), on Sage Intacct.

Order Entry refuses a sales order whose total is negative, and one without lines, so such a
change order can't be a sales order of its own. As on NetSuite (`netsuite_change`), its lines
are added to the sales order of the version it amends (the latest earlier one Sage Intacct
holds), which then holds the contract's value as amended; a change order without lines (a
cancellation, which credits what was billed and not served) leaves that order as it is. Each
added line's memo starts with the change order line it carries, so a retry finds it there and
adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.connectors.netsuite_change import amended_order
from sync.model import Contract

if TYPE_CHECKING:
    from sync.connectors.intacct import IntacctErp

ORDER = "order-entry/document::Sales Order"


def lower_amended_order(ia: IntacctErp, contract: Contract, lines: list[dict[str, Any]]) -> str:
    """Add the change order's lines to the amended version's sales order; its key."""
    _, order_id = amended_order(lambda key: ia._find(ORDER, key), contract, erp="Sage Intacct",
                                system="intacct")
    held = [str(line.get("memo") or "") for line in ia._get(ORDER, order_id)["lines"]]
    new = [{**line, "memo": f"{o.line_id}: {line['memo']}"[:1000]}
           for o, line in zip(contract.obligations, lines, strict=True)
           if not any(memo.startswith(f"{o.line_id}: ") for memo in held)]
    if new:
        ia._update(ORDER, order_id, {"lines": new})
    return order_id


def amends_in_place(contract: Contract) -> bool:
    """A change order Sage can't hold as a sales order of its own: it lowers the contract, or
    carries no line."""
    return contract.version > 1 and (
        not contract.obligations or sum(o.amount_minor for o in contract.obligations) < 0)
