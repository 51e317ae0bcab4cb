"""Billing the sales order in NetSuite: an invoice is the order transformed.

`POST /record/v1/salesOrder/{id}/!transform/invoice` makes the invoice from the order, as
NetSuite's "Transforming Records" describes, so the order shows billed (its lines' billed
quantities and its status) and each invoice line that bills an order line names it
(`orderLine`) and carries that line's revenue-recognition dates. A transform is a POST, not an
upsert, so it carries the invoice's external ID: a retry after a lost response is refused as a
duplicate (DUP_RCRD) and becomes an upsert of the invoice already made, never a second one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sync.connectors.netsuite_transport import RECORDS
from sync.errors import PermanentError
from sync.model import InvoiceLine, Obligation

if TYPE_CHECKING:
    from sync.connectors.netsuite import NetSuiteErp

DUPLICATE = "DUP_RCRD"


def rev_rec_dates(obligation: Obligation) -> dict[str, str]:
    """An order line's revenue terms: its service period, both ends inclusive."""
    return {"revRecStartDate": obligation.service_start.isoformat(),
            "revRecEndDate": obligation.service_end.isoformat()}


def period_dates(line: InvoiceLine) -> dict[str, str]:
    """A line billed outside the order recognizes over the period it bills (end exclusive)."""
    if line.period_start is None or line.period_end is None:
        return {}
    last = max(line.period_start, line.period_end - timedelta(days=1))
    return {"revRecStartDate": line.period_start.isoformat(), "revRecEndDate": last.isoformat()}


def order_line(ns: NetSuiteErp, order_id: str, line: InvoiceLine) -> int | None:
    """The `line` of the order line an invoice line bills: the first with its product's item."""
    if line.product is None:
        return None
    item = ns._item_id(line.product)
    items = ns._order_items.get(order_id)
    if items is None:
        record = ns._get(f"salesOrder/{order_id}?expandSubResources=true")
        items = ns._order_items[order_id] = [str(x["item"]["id"]) for x in
                                             record["item"]["items"]]
    return items.index(item) + 1 if item in items else None


def bill_order(ns: NetSuiteErp, order_id: str, external_id: str, body: dict[str, Any]) -> str:
    """The invoice made from the order; on a retry, the one made before, brought up to date."""
    # The customer comes from the order; the currency is said again, so that the invoice is
    # always in the currency billed.
    head = {k: v for k, v in body.items() if k != "entity"}
    try:
        response = ns._call("bill sales order", "POST",
                            f"{RECORDS}/salesOrder/{order_id}/!transform/invoice",
                            body={**head, "externalId": external_id})
    except PermanentError as error:
        if DUPLICATE not in (error.detail or ""):
            raise
        return ns._upsert("invoice", external_id, body)
    return ns._location(response, "invoice")
