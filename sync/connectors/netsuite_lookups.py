"""What every NetSuite posting looks up first: internal ids by name, and the exchange rate.

A currency's and a service item's internal id (an item is created on first use, by external ID,
with the income and deferred revenue accounts closebot's chart gives it; the "Bad debt" item's
account is Bad Debt Expense), an invoice's customer and currency, and the `exchangeRate` a
foreign-currency transaction is given. They sit apart from the postings (`netsuite.py`) and the
reads (`netsuite_reads.py`), which all use them, and cache what they read for the connector's
life.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sync.connectors.netsuite_closures import BAD_DEBT_ITEM, TAX_ITEM
from sync.connectors.netsuite_transport import (
    BAD_DEBT_EXPENSE,
    DEFERRED_REVENUE,
    SYSTEM,
    NetSuiteTransport,
)
from sync.connectors.revenue_subledger import RevenueSubledger
from sync.errors import PermanentError

RECURRING_ITEM, ONE_TIME_ITEM, CREDIT_ITEM = "Subscription", "One-time charges", "Credit"
NOT_REVENUE_ITEMS = frozenset({TAX_ITEM, CREDIT_ITEM, BAD_DEBT_ITEM})


class NetSuiteLookups(NetSuiteTransport):
    # With FUNCTIONAL_CURRENCY set: closebot's rate (functional units per unit of a currency)
    # on a day, None when the currency is the functional one. NetSuite converts a foreign
    # currency transaction at the `exchangeRate` it is given (else its own rate table) and books
    # the realized gain or loss on payment itself.
    exchange_rate: Callable[[str, date], Decimal | None] | None = None

    def _with_rate(self, body: dict[str, Any], currency: str, on: date) -> dict[str, Any]:
        rate = self.exchange_rate(currency, on) if self.exchange_rate else None
        return body if rate is None else {**body, "exchangeRate": rate}
    # The revenue schedules closebot keeps beside NetSuite (set by the wiring).
    subledger: RevenueSubledger | None = None

    def _invoice_rate(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """A credit on an invoice takes back what the invoice booked, at the invoice's rate
        (the ledger's rule, docs/fx.md), not the credit day's."""
        rate = invoice.get("exchangeRate")
        if self.exchange_rate is None or rate is None:
            return {}
        return {"exchangeRate": Decimal(str(rate))}

    def _currency_map(self) -> dict[str, str]:
        if not self._currencies:
            self._currencies = {row["symbol"].upper(): row["id"]
                                for row in self.suiteql("SELECT id, symbol FROM currency")}
        return self._currencies

    def _currency_id(self, code: str) -> str:
        found = self._currency_map().get(code.upper())
        if found is None:
            raise PermanentError(
                f"NetSuite has no currency {code}; add it under Lists > Accounting > Currencies",
                system=SYSTEM)
        return found

    def _item_id(self, product: str) -> str:
        if product not in self._items:
            body: dict[str, Any] = {"itemId": product[:60], "displayName": product[:60]}
            if product == BAD_DEBT_ITEM:
                # A write-off is a credit loss, not less revenue; and a void after it takes
                # it back from that account by journal entry (`erp_reversals.py`).
                body["incomeAccount"] = {"id": self._bad_debt_account()}
            elif self.setup.income_account and product != TAX_ITEM:
                body["incomeAccount"] = {"id": self.setup.income_account}
            # With closebot's schedules, revenue items bill to Deferred Revenue; the close
            # releases it by journal entry (docs/revenue.md).
            if self.subledger is not None and product not in NOT_REVENUE_ITEMS and (
                    deferred := self.account_ids().get(DEFERRED_REVENUE)):
                body["deferredRevenueAccount"] = {"id": deferred}
            self._items[product] = self._upsert(
                "serviceSaleItem", f"closebot-item:{product[:200]}", body)
        return self._items[product]

    def _bad_debt_account(self) -> str:
        found = self.account_ids().get(BAD_DEBT_EXPENSE)
        if found is None:
            raise PermanentError(
                f"NetSuite has no account number {BAD_DEBT_EXPENSE} (Bad Debt Expense) for the "
                "\"Bad debt\" item that write-offs book to; add it under Lists > Accounting > "
                "Accounts", system=SYSTEM)
        return found

    def _invoice_owner(self, invoice_id: str) -> tuple[str, str]:
        if invoice_id not in self._invoices:
            record = self._get(f"invoice/{invoice_id}")
            currency = self._get(f"currency/{record['currency']['id']}")["symbol"]
            self._invoices[invoice_id] = (str(record["entity"]["id"]), str(currency))
        return self._invoices[invoice_id]
