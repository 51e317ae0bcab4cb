"""The company's records and the rules Sage Intacct applies when they are created: references
must exist (customer, item, GL account, invoice), the currency must be one the company keeps,
a payment can't apply more than an invoice owes, a journal entry must balance, and a customer
id, item id or document number is unique. Balances (`totalTxnAmountDue`, `totalTxnAmountPaid`,
`state`) are computed from what was applied, never stored."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from sandbox.intacct import objects as o
from sandbox.intacct.errors import invalid, not_found

ZERO = Decimal(0)
ADVANCE_METHODS = ("ach", "cash", "creditCard", "eft", "printedCheck")


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in o.OBJECTS}
        self._next = 100
        self.applied: dict[str, Decimal] = {}  # invoice or adjustment key → amount applied
        self.closed_periods: set[str] = set()  # "2026-11": the general ledger's closed books
        for gl_id, name, side in o.CHART:
            self._insert(o.ACCOUNT, {"id": gl_id, "name": name, "normalBalance": side,
                                     "status": "active"})

    # -- creating ------------------------------------------------------------------------------

    def create(self, obj: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and insert; returns the new record (its `key` and `id`)."""
        with self.lock:
            maker = getattr(self, "_" + obj.rpartition("/")[2].split("::")[0].replace("-", "_"))
            return self._insert(obj, maker(body))

    def _insert(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        key = str(self._next)
        record = {"key": key, **record}
        record.setdefault("id", key)
        self.rows[obj][key] = record
        return record

    def _customer(self, body: dict[str, Any]) -> dict[str, Any]:
        cid, name = str(body.get("id") or ""), str(body.get("name") or "")
        if not cid or not name:
            raise invalid("A customer needs an id and a name", field="id" if not cid else "name")
        self._unique(o.CUSTOMER, "id", cid, "Customer")
        email = ((body.get("contacts") or {}).get("default") or {}).get("email1")
        return {"id": cid, "name": name, "status": "active",
                "contacts": {"default": {"email1": email}},
                "currency": self._currency(body.get("currency") or "USD")}

    def _item(self, body: dict[str, Any]) -> dict[str, Any]:
        iid = str(body.get("id") or "")
        if not iid:
            raise invalid("An item needs an id", field="id")
        self._unique(o.ITEM, "id", iid, "Item")
        return {"id": iid, "name": str(body.get("name") or iid), "itemType": "nonInventory",
                "status": "active"}

    def _account(self, body: dict[str, Any]) -> dict[str, Any]:
        gl_id = o.ref({"a": body}, "a")
        self._unique(o.ACCOUNT, "id", gl_id, "Account")
        return {"id": gl_id, "name": str(body.get("name") or gl_id),
                "normalBalance": body.get("normalBalance") or "debit", "status": "active"}

    def update(self, obj: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH of a sales order: the lines given without a `key` are added to it (how Sage's
        REST API adds to an owned collection); its header stays as it is. Posted AR documents
        are changed by adjustments and payments, not here."""
        with self.lock:
            record = self.find(obj, key)
            if obj != o.SALES_ORDER:
                raise invalid(f"A {obj.rpartition('/')[2]} can't be changed once posted")
            added = self._order_lines([line for line in body.get("lines") or []
                                       if isinstance(line, dict) and not line.get("key")])
            if self.total(record) + sum((line["txnAmount"] for line in added), ZERO) < 0:
                raise invalid("A sales order's total can't be negative", field="lines")
            record["lines"] = record["lines"] + added
            return record

    def _order_lines(self, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines = []
        for n, line in enumerate(given):
            item = o.ref(line, "item")
            self._exists(o.ITEM, item, f"lines[{n}].item.id", "item")
            lines.append({"item": {"id": item}, "quantity": str(line.get("quantity") or "1"),
                          "txnAmount": o.amount(line.get("txnAmount"), f"lines[{n}].txnAmount"),
                          "memo": line.get("memo"), "revRecStartDate": line.get("revRecStartDate"),
                          "revRecEndDate": line.get("revRecEndDate")})
        return lines

    def _document(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer_of(body)
        currency = self._txn_currency(body)
        lines = self._order_lines(body.get("lines") or [])
        if self.total({"lines": lines}) < 0:
            raise invalid("A sales order's total can't be negative", field="lines")
        if not lines:
            raise invalid("A sales order needs at least one line", field="lines")
        number = f"SO{self._next + 1:05d}"
        return {"id": f"Sales Order-{number}", "documentNumber": number,
                "documentType": "Sales Order", "state": "pending", "customer": {"id": customer},
                "transactionDate": body.get("transactionDate"),
                "referenceNumber": body.get("referenceNumber"), "memo": body.get("memo"),
                "currency": {"txnCurrency": currency}, "lines": lines}

    def _invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._ar_document(body, "invoice")
        number = str(body.get("invoiceNumber") or f"INV-{self._next + 1:05d}")
        self._unique(o.INVOICE, "invoiceNumber", number, "Invoice")
        return {**record, "invoiceNumber": number, "invoiceDate": body.get("invoiceDate"),
                "dueDate": body.get("dueDate") or body.get("invoiceDate")}

    def _adjustment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._ar_document(body, "adjustment")
        number = str(body.get("adjustmentNumber") or f"ADJ-{self._next + 1:05d}")
        self._unique(o.ADJUSTMENT, "adjustmentNumber", number, "Adjustment")
        return {**record, "adjustmentNumber": number,
                "adjustmentDate": body.get("adjustmentDate")}

    def _ar_document(self, body: dict[str, Any], what: str) -> dict[str, Any]:
        customer = self._customer_of(body)
        currency = self._txn_currency(body)
        lines = []
        for n, line in enumerate(body.get("lines") or []):
            lines.append({"glAccount": {"id": self._gl(line, f"lines[{n}]")},
                          "txnAmount": o.amount(line.get("txnAmount"), f"lines[{n}].txnAmount"),
                          "memo": line.get("memo"), "revRecStartDate": line.get("revRecStartDate"),
                          "revRecEndDate": line.get("revRecEndDate")})
        if not lines:
            raise invalid(f"An {what} needs at least one line", field="lines")
        return {"customer": {"id": customer}, "referenceNumber": body.get("referenceNumber"),
                "description": body.get("description"),
                "currency": self._currency_block(body, currency), "lines": lines,
                "state": "posted"}

    def _payment(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer_of(body)
        currency = self._txn_currency(body)
        cash, details, applying = ZERO, [], dict[str, Decimal]()
        for n, detail in enumerate(body.get("details") or []):
            where = f"details[{n}]"
            invoice = self._get(o.INVOICE, o.ref(detail, "arInvoice", "key"), f"{where}.arInvoice")
            paid = o.amount(detail.get("txnAmount"), f"{where}.txnAmount")
            owner = (invoice["customer"]["id"], invoice["currency"]["txnCurrency"])
            if owner != (customer, currency):
                raise invalid(f"Invoice {invoice['invoiceNumber']} belongs to another customer "
                              "or currency", field=where)
            owed = self.total(invoice) - self.applied.get(invoice["key"], ZERO)
            owed -= applying.get(invoice["key"], ZERO)
            if paid <= 0 or paid > owed:
                raise invalid(f"The amount applied to invoice {invoice['invoiceNumber']} "
                              f"({paid}) exceeds what it owes ({owed})", field=f"{where}.txnAmount")
            applying[invoice["key"]] = applying.get(invoice["key"], ZERO) + paid
            entry = {"arInvoice": {"key": invoice["key"]}, "txnAmount": paid}
            if isinstance(detail.get("postedAdvance"), dict):
                advance = self._get(o.ADVANCE, o.ref(detail, "postedAdvance", "key"),
                                    f"{where}.postedAdvance")
                if advance["customer"]["id"] != customer:
                    raise invalid(f"Advance {advance['referenceNumber']} belongs to another "
                                  "customer", field=f"{where}.postedAdvance")
                left = self.total(advance) - self.applied.get(advance["key"], ZERO)
                left -= applying.get(advance["key"], ZERO)
                if paid > left:
                    raise invalid(f"Advance {advance['referenceNumber']} has only {left} left "
                                  "to apply", field=f"{where}.txnAmount")
                applying[advance["key"]] = applying.get(advance["key"], ZERO) + paid
                entry["postedAdvance"] = {"key": advance["key"]}
            elif isinstance(detail.get("inlineTxn"), dict):
                credit = self._get(o.ADJUSTMENT, o.ref(detail, "inlineTxn", "key"),
                                   f"{where}.inlineTxn")
                left = -self.total(credit) - self.applied.get(credit["key"], ZERO)
                left -= applying.get(credit["key"], ZERO)
                if paid > left:
                    raise invalid(f"Adjustment {credit['adjustmentNumber']} has only {left} "
                                  "left to apply", field=f"{where}.txnAmount")
                applying[credit["key"]] = applying.get(credit["key"], ZERO) + paid
                entry["inlineTxn"] = {"key": credit["key"]}
            else:
                cash += paid
            details.append(entry)
        if not details:
            raise invalid("A payment needs at least one detail applying it", field="details")
        undeposited = None
        if cash:
            undeposited = {"id": self._gl(body, "undepositedFundsGLAccount",
                                          field="undepositedFundsGLAccount")}
        for key, value in applying.items():
            self.applied[key] = self.applied.get(key, ZERO) + value
        return {"customer": {"id": customer}, "paymentDate": body.get("paymentDate"),
                "paymentMethod": body.get("paymentMethod") or "EFT",
                "referenceNumber": body.get("referenceNumber"),
                "description": body.get("description"),
                "currency": self._currency_block(body, currency), "totalTxnAmount": cash,
                "undepositedFundsGLAccount": undeposited, "details": details,
                "state": "complete"}

    def _advance(self, body: dict[str, Any]) -> dict[str, Any]:
        """Money received from a customer before an invoice asks for it: into undeposited funds,
        out to its lines' accounts (each amount positive). What is left of it to apply is its
        total less what payments applied (`postedAdvance`)."""
        customer = self._customer_of(body)
        currency = self._txn_currency(body)
        if body.get("paymentMethod") not in ADVANCE_METHODS:
            raise invalid(f"paymentMethod must be one of {', '.join(ADVANCE_METHODS)}",
                          field="paymentMethod")
        if not body.get("paymentDate"):
            raise invalid("An advance needs its paymentDate", field="paymentDate")
        lines = []
        for n, line in enumerate(body.get("lines") or []):
            value = o.amount(line.get("txnAmount"), f"lines[{n}].txnAmount")
            if value <= 0:
                raise invalid(f"lines[{n}].txnAmount must be positive",
                              field=f"lines[{n}].txnAmount")
            lines.append({"glAccount": {"id": self._gl(line, f"lines[{n}]")},
                          "txnAmount": value, "memo": line.get("memo")})
        if not lines:
            raise invalid("An advance needs at least one line", field="lines")
        return {"customer": {"id": customer}, "paymentDate": body.get("paymentDate"),
                "paymentMethod": body["paymentMethod"],
                "referenceNumber": body.get("referenceNumber"),
                "description": body.get("description"),
                "currency": self._currency_block(body, currency),
                "undepositedFundsGLAccount": {"id": self._gl(
                    body, "undepositedFundsGLAccount", field="undepositedFundsGLAccount")},
                "lines": lines, "state": "posted"}

    def _journal_entry(self, body: dict[str, Any]) -> dict[str, Any]:
        """Lines in one transaction currency (a line's `currency.txnCurrency`, USD when
        absent), debits equal to credits; refused in a closed period."""
        posting = str(body.get("postingDate") or "")
        if posting[:7] in self.closed_periods:
            raise invalid(f"Cannot post to a closed period: {posting} falls in books closed "
                          "through that period; use a date in an open period",
                          field="postingDate")
        lines, net, currencies = [], ZERO, set()
        for n, line in enumerate(body.get("lines") or []):
            currencies.add(self._txn_currency(line))
            value = o.amount(line.get("txnAmount"), f"lines[{n}].txnAmount")
            side = line.get("txnType")
            if side not in ("debit", "credit") or value < 0:
                raise invalid(f"lines[{n}] needs txnType debit or credit and a positive amount",
                              field=f"lines[{n}].txnType")
            net += value if side == "debit" else -value
            lines.append({"glAccount": {"id": self._gl(line, f"lines[{n}]")}, "txnAmount": value,
                          "txnType": side, "memo": line.get("memo")})
        if len(lines) < 2 or net:
            raise invalid("The journal entry's debits and credits must be equal "
                          f"(they differ by {net})", field="lines")
        if len(currencies) > 1:
            raise invalid("A journal entry's lines must share one currency", field="lines")
        return {"glJournal": {"id": o.ref(body, "glJournal")},
                "currency": {"txnCurrency": currencies.pop()},
                "postingDate": body.get("postingDate"),
                "referenceNumber": body.get("referenceNumber"),
                "description": body.get("description"), "lines": lines, "state": "posted"}

    # -- checks --------------------------------------------------------------------------------

    def _unique(self, obj: str, field: str, value: str, label: str) -> None:
        if any(r.get(field) == value for r in self.rows[obj].values()):
            raise invalid(f"Another {label} with the given value(s) {value} already exists",
                          field=field)

    def _exists(self, obj: str, rid: str, field: str, label: str) -> None:
        if not any(r["id"] == rid for r in self.rows[obj].values()):
            raise invalid(f"Invalid {label} {rid}: no {label} with this id exists", field=field)

    def _customer_of(self, body: dict[str, Any]) -> str:
        customer = o.ref(body, "customer")
        self._exists(o.CUSTOMER, customer, "customer.id", "customer")
        return customer

    def _gl(self, line: dict[str, Any], where: str, *, field: str = "glAccount") -> str:
        gl_id = o.ref(line, field)
        self._exists(o.ACCOUNT, gl_id, f"{where}.{field}.id", "GL account")
        return gl_id

    def _txn_currency(self, body: dict[str, Any]) -> str:
        return self._currency((body.get("currency") or {}).get("txnCurrency") or "USD")

    def _currency_block(self, body: dict[str, Any], currency: str) -> dict[str, Any]:
        """`currency` as an AR invoice, adjustment or payment keeps it: the transaction
        currency, and when the body gives one, the base currency and the exchange rate (`date`,
        `rate`, `typeId`) it is converted at. The rate is kept as written (a string, never
        rendered as money)."""
        given = body.get("currency") or {}
        block: dict[str, Any] = {"txnCurrency": currency}
        if given.get("baseCurrency") is not None:
            block["baseCurrency"] = self._currency(str(given["baseCurrency"]))
        rate = given.get("exchangeRate")
        if rate is None:
            return block
        if not isinstance(rate, dict) or "baseCurrency" not in block:
            raise invalid("An exchange rate needs the base currency it converts into",
                          field="currency.exchangeRate")
        try:
            value = Decimal(str(rate.get("rate")))
        except ArithmeticError:
            value = ZERO
        if not value.is_finite() or value <= 0:
            raise invalid("The exchange rate must be a positive number",
                          field="currency.exchangeRate.rate")
        block["exchangeRate"] = {"date": rate.get("date"), "rate": str(rate.get("rate")),
                                 "typeId": rate.get("typeId")}
        return block

    def _currency(self, code: str) -> str:
        if code not in o.CURRENCIES:
            raise invalid(f"Currency {code} is not set up for this company", field="currency")
        return code

    def _get(self, obj: str, key: str, field: str) -> dict[str, Any]:
        record = self.rows[obj].get(key)
        if record is None:
            raise invalid(f"{field}: no {obj.rpartition('/')[2]} with key {key}", field=field)
        return record

    def find(self, obj: str, key: str) -> dict[str, Any]:
        record = self.rows[obj].get(key)
        if record is None:
            raise not_found(f"No {obj.rpartition('/')[2]} with key {key}")
        return record

    @staticmethod
    def total(record: dict[str, Any]) -> Decimal:
        return sum((line["txnAmount"] for line in record.get("lines") or []), ZERO)
