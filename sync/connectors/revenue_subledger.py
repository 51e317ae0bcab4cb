"""The revenue subledger closebot keeps when the ERP is NetSuite or Sage Intacct.

The embedded ledger's sales orders carry the revenue schedules (per obligation, per period, at
the allocated price), so with another ERP closebot records each contract version there as well:
the same rows, planned by the same code, re-planned the way the ledger re-plans them. No
invoice or payment is posted into it; the ERP keeps those. Month-end close posts what the
schedules release to the ERP as journal entries (`sync/ledger/subledger_close.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sync.connectors.ledger import LedgerErp
from sync.ledger import Ledger
from sync.model import Contract


class RevenueSubledger:
    def __init__(self, ledger: Ledger, *, recognize_on_delivery: bool = False) -> None:
        self.ledger = ledger
        self.recognize_on_delivery = recognize_on_delivery
        self._orders = LedgerErp(ledger, recognize_on_delivery=recognize_on_delivery)

    def record(self, contract: Contract) -> None:
        """The contract version's schedules, once: a replay finds the order by its key. A
        version with no line (a cancellation's) plans nothing: what it ends is booked by its
        credits."""
        if not contract.obligations:
            return
        customer = self._orders.upsert_customer(contract.customer, currency=contract.currency)
        self._orders.upsert_sales_order(contract, customer_id=customer)

    def replan(self, *, opportunity_id: str, effective: date, remaining: Mapping[str, int],
               catch_up: Mapping[str, int]) -> int:
        """The schedules re-planned to a contract modification, as the ledger re-plans its own."""
        return self._orders.replan(opportunity_id=opportunity_id, effective=effective,
                                   remaining=remaining, catch_up=catch_up)
