"""`NetSuiteErp`: the `Erp` port over NetSuite's REST web services (httpx, OAuth 1.0a TBA).

Every record is written by external ID (`PUT /record/v1/{type}/eid:{externalId}`), so a retry,
a lost response or a crash followed by a re-run finds the record instead of making a second one:
customers by CRM account id, sales orders by `opportunity:vN`, invoices, payments and credit
memos by their billing ids. Payments and credit memos are read first and only written when
absent, because what they apply to an invoice depends on the invoice's state at the time.
Amounts travel as exact decimal JSON numbers; reads go through SuiteQL.
"""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from sync.connectors.exact_json import dumps, loads
from sync.connectors.oauth1 import TokenAuth
from sync.dates import Seconds
from sync.errors import PermanentError, TransientError
from sync.model import Contract, CreditNote, Customer, Invoice, Payment
from sync.money import from_minor, to_minor
from sync.ports import PostedCredit, PostedInvoice, PostedOrder

SYSTEM = "netsuite"
RECORDS = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
PAGE = 1000
_ID_IN_LOCATION = re.compile(r"/([^/]+)$")
_UNITEMIZED = "Not itemized by the biller"
RECURRING_ITEM, ONE_TIME_ITEM, CREDIT_ITEM = "Subscription", "One-time charges", "Credit"


def default_base_url(account_id: str) -> str:
    """NetSuite's per-account REST host: `1234567_SB1` → `1234567-sb1.suitetalk.api...`."""
    return f"https://{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


class NetSuiteErp:
    """Every public method is one posting; `calls` counts the HTTP requests behind them."""

    name = SYSTEM

    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        base_url: str | None = None,
        ca_bundle: str | None = None,
        timeout: Seconds = 30.0,
        concurrency: int = 5,
    ) -> None:
        self.account_id = account_id
        self.http = httpx.Client(
            base_url=base_url or default_base_url(account_id),
            verify=ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True,
            timeout=timeout,
            auth=TokenAuth(realm=account_id.upper(), consumer_key=consumer_key,
                           consumer_secret=consumer_secret, token_id=token_id,
                           token_secret=token_secret),
            headers={"Accept": "application/json"},
        )
        self.calls = 0
        # The account's concurrency limit is shared by every integration; stay under our share.
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._currencies: dict[str, str] = {}  # ISO code → NetSuite internal id
        self._items: dict[str, str] = {}  # product name → service item internal id
        self._invoices: dict[str, tuple[str, str]] = {}  # invoice id → (customer id, currency)

    # --- the Erp port ----------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, currency: str) -> str:
        body: dict[str, Any] = {
            "companyName": customer.name[:83],
            "currency": {"id": self._currency_id(currency)},
        }
        if customer.email:
            body["email"] = customer.email
        return self._upsert("customer", customer.crm_account_id, body)

    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str:
        currency = contract.currency
        lines = [
            {
                "item": {"id": self._item_id(o.product)},
                "description": _description(o.product, o.service_start, o.service_end),
                # The amount is the line's contract value; a rate per billing period would
                # not multiply out to it, so NetSuite is given the quantity and amount only.
                "quantity": o.quantity,
                "amount": from_minor(o.amount_minor, currency),
            }
            for o in contract.obligations
        ]
        body = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": contract.billing.start.isoformat(),
            "startDate": contract.billing.start.isoformat(),
            "endDate": contract.billing.end.isoformat(),
            "otherRefNum": contract.opportunity_id,
            "memo": f"Salesforce opportunity {contract.opportunity_id} v{contract.version}",
            "item": {"items": lines},
        }
        return self._upsert("salesOrder", contract.order_key, body)

    def post_invoice(
        self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
    ) -> str:
        """Posts the invoice total; whatever the lines don't itemize becomes one more line, so
        the receivable in NetSuite always equals what the biller bills."""
        currency = invoice.currency
        lines = [(ln.description, ln.amount_minor, ln.recurring) for ln in invoice.lines]
        rest = invoice.total_minor - sum(amount for _, amount, _ in lines)
        if rest:
            lines.append((_UNITEMIZED, rest, False))
        issued = invoice.issued_on or datetime.now(UTC).date()
        memo = f"Stripe invoice {invoice.billing_id}"
        if sales_order_id:
            memo += f"; sales order {sales_order_id}"
        body: dict[str, Any] = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": issued.isoformat(),
            "dueDate": (invoice.due_on or issued).isoformat(),
            "memo": memo,
            # Stripe's line descriptions are one of a kind (periods, quantities), so invoice
            # lines use two standing items and carry the description as text.
            "item": {"items": [
                {"item": {"id": self._item_id(RECURRING_ITEM if recurring else ONE_TIME_ITEM)},
                 "description": description[:999], "quantity": 1,
                 "amount": from_minor(amount, currency)}
                for description, amount, recurring in lines
            ]},
        }
        if invoice.number:
            body["tranId"] = invoice.number
        if invoice.opportunity_id:
            body["otherRefNum"] = invoice.opportunity_id
        erp_id = self._upsert("invoice", invoice.billing_id, body)
        self._invoices[erp_id] = (customer_id, currency)
        return erp_id

    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str:
        found = self._find("customerPayment", payment.billing_id)
        if found:
            return found
        customer_id, currency = self._invoice_owner(invoice_id)
        amount = from_minor(payment.amount_minor, payment.currency)
        return self._upsert("customerPayment", payment.billing_id, {
            "customer": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": payment.paid_at.date().isoformat(),
            "payment": amount,
            "memo": f"Stripe payment on invoice {payment.invoice_billing_id}",
            "apply": {"items": [{"doc": {"id": invoice_id}, "apply": True, "amount": amount}]},
        })

    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str:
        found = self._find("creditMemo", credit.billing_id)
        if found:
            return found
        invoice = self._get(f"invoice/{invoice_id}")
        customer_id = str(invoice["entity"]["id"])
        remaining = to_minor(Decimal(str(invoice.get("amountRemaining") or 0)), credit.currency)
        # On a paid invoice the credit stays on the customer's account, as Stripe does it.
        applied = min(credit.amount_minor, remaining)
        body: dict[str, Any] = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(credit.currency)},
            "tranDate": credit.created_at.date().isoformat(),
            "memo": f"Stripe credit note {credit.billing_id}: {credit.reason}"[:999],
            "item": {"items": [{"item": {"id": self._item_id(CREDIT_ITEM)},
                                "description": credit.reason[:999], "quantity": 1,
                                "amount": from_minor(credit.amount_minor, credit.currency)}]},
        }
        if applied:
            body["apply"] = {"items": [{"doc": {"id": invoice_id}, "apply": True,
                                        "amount": from_minor(applied, credit.currency)}]}
        return self._upsert("creditMemo", credit.billing_id, body)

    # --- reading the books (the audit) -----------------------------------------------------

    def posted_invoices(self) -> list[PostedInvoice]:
        """closebot's invoices in NetSuite (those with an external ID), in one SuiteQL read."""
        return [
            PostedInvoice(row["externalid"], row.get("tranid"), self._minor(
                row, "foreignamountremaining"), self._minor(row, "foreigntotal"),
                self._symbol(row))
            for row in self._transactions("CustInvc")
        ]

    def posted_credits(self) -> list[PostedCredit]:
        """Credit memos by the billing credit note they carry; which invoice each applies to
        is not read (SuiteQL's transaction table doesn't say), the credit note knows it."""
        return [PostedCredit(row["externalid"], self._minor(row, "foreigntotal"),
                             self._symbol(row)) for row in self._transactions("CustCred")]

    def sales_orders(self) -> list[PostedOrder]:
        return [PostedOrder(row["externalid"], self._symbol(row), self._minor(row, "foreigntotal"))
                for row in self._transactions("SalesOrd")]

    def ledger_books(self) -> None:
        """Revenue schedules and the general ledger are NetSuite's own; not read here."""
        return None

    def _transactions(self, kind: str) -> Iterator[dict[str, str]]:
        return self.suiteql(
            "SELECT externalid, tranid, currency, foreigntotal, foreignamountremaining "
            f"FROM transaction WHERE type = '{kind}' AND externalid IS NOT NULL")

    def _symbol(self, row: dict[str, str]) -> str:
        return {v: k for k, v in self._currency_map().items()}[row["currency"]]

    def _minor(self, row: dict[str, str], column: str) -> int:
        return to_minor(Decimal(row.get(column) or "0"), self._symbol(row))

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], int] = {}
        for table, kind in (("customer", "customer"), ("transaction", None)):
            columns = "externalid" + ("" if kind else ", type")
            for row in self.suiteql(f"SELECT {columns} FROM {table} WHERE externalid IS NOT NULL"):
                key = (kind or row["type"], row["externalid"])
                seen[key] = seen.get(key, 0) + 1
        return sorted(key for key, n in seen.items() if n > 1)

    def unbalanced_entries(self) -> list[str]:
        return []  # NetSuite writes the GL impact of each transaction itself, always balanced

    def suiteql(self, query: str) -> Iterator[dict[str, str]]:
        offset = 0
        while True:
            page = loads(self._call("suiteql", "POST", SUITEQL,
                                    params={"limit": PAGE, "offset": offset},
                                    body={"q": query}, headers={"Prefer": "transient"}).content)
            yield from page.get("items") or []
            if not page.get("hasMore"):
                return
            offset += PAGE

    # --- helpers ---------------------------------------------------------------------------

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
            self._items[product] = self._upsert(
                "serviceSaleItem", f"closebot-item:{product[:200]}",
                {"itemId": product[:60], "displayName": product[:60]})
        return self._items[product]

    def _invoice_owner(self, invoice_id: str) -> tuple[str, str]:
        if invoice_id not in self._invoices:
            record = self._get(f"invoice/{invoice_id}")
            currency = self._get(f"currency/{record['currency']['id']}")["symbol"]
            self._invoices[invoice_id] = (str(record["entity"]["id"]), str(currency))
        return self._invoices[invoice_id]

    def _upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        response = self._call(f"upsert {record_type}", "PUT",
                              f"{RECORDS}/{record_type}/eid:{quote(external_id, safe='')}",
                              body=body)
        match = _ID_IN_LOCATION.search(response.headers.get("Location", ""))
        if match is None:
            raise TransientError(f"NetSuite did not say where the {record_type} is",
                                 system=SYSTEM)
        return match.group(1)

    def _find(self, record_type: str, external_id: str) -> str | None:
        response = self._call(f"find {record_type}", "GET",
                              f"{RECORDS}/{record_type}/eid:{quote(external_id, safe='')}",
                              missing_ok=True)
        return None if response.status_code == 404 else str(loads(response.content)["id"])

    def _get(self, path: str) -> dict[str, Any]:
        kind = f"get {path.partition('/')[0]}"
        return loads(self._call(kind, "GET", f"{RECORDS}/{path}").content)

    def _call(self, kind: str, method: str, path: str, *, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
              missing_ok: bool = False) -> httpx.Response:
        """One HTTP request (the single choke point that telemetry wraps), errors translated."""
        self.calls += 1
        sent = {"Content-Type": "application/json", **(headers or {})} if body else headers
        with self._slots:
            try:
                response = self.http.request(
                    method, path, params=params, headers=sent,
                    content=dumps(body) if body is not None else None)
            except httpx.TransportError as error:
                raise TransientError("NetSuite could not be reached", system=SYSTEM,
                                     detail=f"{type(error).__name__}: {error}") from error
        if response.status_code < 300 or (missing_ok and response.status_code == 404):
            return response
        raise _error(response)


def _description(product: str, start: date, end: date) -> str:
    return f"{product} ({start.isoformat()} to {end.isoformat()})"[:999]


def _error(response: httpx.Response) -> Exception:
    status = response.status_code
    try:
        details = loads(response.content).get("o:errorDetails") or [{}]
    except ValueError:
        details = [{}]
    first = details[0] if isinstance(details[0], dict) else {}
    code = first.get("o:errorCode") or f"HTTP {status}"
    detail = f"{code}: {first.get('detail') or response.reason_phrase}"[:1000]
    if status == 429:
        return TransientError("NetSuite is over its concurrency limit", system=SYSTEM,
                              detail=detail, retry_after=_retry_after(response))
    if status >= 500:
        return TransientError(f"NetSuite is unavailable (HTTP {status})", system=SYSTEM,
                              detail=detail)
    if status == 401:
        return PermanentError("NetSuite refused closebot's credentials (token-based auth)",
                              system=SYSTEM, detail=detail)
    path = first.get("o:errorPath")
    where = f" at {path}" if path else ""
    return PermanentError(f"NetSuite rejected the record{where}: {first.get('detail') or code}",
                          system=SYSTEM, detail=detail)


def _retry_after(response: httpx.Response) -> Seconds | None:
    try:
        return Seconds(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
