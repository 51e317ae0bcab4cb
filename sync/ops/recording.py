"""Recording connectors for the dry run: each implements a port of `sync/ports.py`, writes down
every call that would change something (with plausible IDs, marked `DRYRUN`, for the engine to
carry on with) and passes every read through to the real connector, so what is already there
counts. Nothing they are given is ever written anywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.engine.telemetry import current_context
from sync.model import (
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceClosure,
    Obligation,
    Payment,
    Recognition,
)
from sync.money import format_money
from sync.ports import (
    Crm,
    CrmAccount,
    CrmUpdate,
    DealRecord,
    Erp,
    ErpCustomer,
    ErpInvoice,
    WriteResult,
)


@dataclass(frozen=True)
class Intended:
    """One record a system would get: created, or updated with `fields`."""

    system: str  # stripe | ledger | netsuite | salesforce
    action: str  # create | update
    kind: str  # customer, subscription, invoice, sales order, payment, credit memo, opportunity…
    ref: str  # the record's ID (a DRYRUN one for a record that does not exist yet)
    opportunity_id: str | None
    title: str
    phase: str
    currency: str | None = None
    amount_minor: int | None = None
    details: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def amount(self) -> str | None:
        if self.amount_minor is None or not self.currency:
            return None
        return format_money(self.amount_minor, self.currency)


class Recorder:
    """What every recording connector writes to, in call order; `phase` says under which
    assumption (`now`, or `after approval`) the calls were made."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.phase = "now"
        self.intended: list[Intended] = []
        self._counts: dict[str, int] = {}

    def new_id(self, pattern: str) -> str:
        n = self._counts[pattern] = self._counts.get(pattern, 0) + 1
        return pattern.format(n=n)

    def add(self, system: str, action: str, kind: str, ref: str, title: str, *,
            opportunity_id: str | None = None, **rest: Any) -> str:
        opp = opportunity_id or current_context().get("opportunity_id")
        self.intended.append(Intended(system, action, kind, ref, opp, title, self.phase, **rest))
        return ref


class RecordingCrm:
    """Intake reads the deals it was handed (already read from the real CRM); write-backs are
    recorded and answered as accepted."""

    def __init__(self, real: Crm, deals: Sequence[DealRecord], recorder: Recorder) -> None:
        self.real, self.deals, self.recorder = real, list(deals), recorder

    def closed_won_since(self, since: datetime | None) -> Iterator[list[DealRecord]]:
        if self.deals:
            yield self.deals

    def closed_won(self, opportunity_ids: Sequence[str]) -> list[DealRecord]:
        return [d for d in self.deals if d.opportunity_id in set(opportunity_ids)]

    def accounts(self) -> Iterator[list[CrmAccount]]:
        return self.real.accounts()

    def write_back(self, updates: Sequence[CrmUpdate]) -> list[WriteResult]:
        for u in updates:
            self.recorder.add("salesforce", "update", "opportunity", u.opportunity_id,
                              u.opportunity_id, opportunity_id=u.opportunity_id,
                              fields=dict(u.fields))
            if u.account_id and u.account_fields:
                self.recorder.add("salesforce", "update", "account", u.account_id, u.account_id,
                                  opportunity_id=u.opportunity_id, fields=dict(u.account_fields))
        return [WriteResult(record_id=u.opportunity_id, ok=True) for u in updates]


class RecordingErp:
    """The ERP's upserts, recorded; IDs look like the embedded ledger's numbers."""

    def __init__(self, real: Erp, recorder: Recorder) -> None:
        self.real, self.rec, self.name = real, recorder, real.name

    def upsert_customer(self, customer: Customer, *, currency: str) -> str:
        return self.rec.add(self.name, "create", "customer", self.rec.new_id("CUST-DRYRUN{n}"),
                            customer.name, details=(f"currency {currency}",
                                                    f"external ID {customer.crm_account_id}"))

    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str:
        currency = contract.currency
        details = tuple(f"{o.product}: {format_money(o.amount_minor, currency)} ({_term(o)})"
                        for o in contract.obligations)
        return self.rec.add(self.name, "create", "sales order", self.rec.new_id("SO-DRYRUN{n}"),
                            contract.order_key, currency=currency,
                            amount_minor=sum(o.amount_minor for o in contract.obligations),
                            details=(f"for customer {customer_id}", *details))

    def post_invoice(self, invoice: Invoice, *, customer_id: str,
                     sales_order_id: str | None) -> str:
        order = f", sales order {sales_order_id}" if sales_order_id else ""
        return self.rec.add(self.name, "create", "invoice", self.rec.new_id("INV-DRYRUN{n}"),
                            str(invoice.number or invoice.billing_id), currency=invoice.currency,
                            amount_minor=invoice.total_minor,
                            details=(f"for customer {customer_id}{order}",
                                     *line_details(invoice)))

    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str:
        return self.rec.add(self.name, "create", "payment", self.rec.new_id("PMT-DRYRUN{n}"),
                            f"on invoice {invoice_id}", currency=payment.currency,
                            amount_minor=payment.amount_minor)

    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str:
        return self.rec.add(self.name, "create", "credit memo", self.rec.new_id("CM-DRYRUN{n}"),
                            f"on invoice {invoice_id}", currency=credit.currency,
                            amount_minor=credit.amount_minor, details=(credit.reason,))

    def close_invoice(self, closure: InvoiceClosure, *, invoice_id: str) -> str:
        amount = sum(line.amount_minor for line in closure.lines) + closure.tax_minor
        return self.rec.add(self.name, "create", f"{closure.kind.value} reversal",
                            self.rec.new_id("CLOSE-DRYRUN{n}"), f"on invoice {invoice_id}",
                            currency=closure.currency, amount_minor=amount,
                            details=(f"{closure.kind.value} on {closure.closed_on}",))

    def customers(self) -> Iterator[list[ErpCustomer]]:
        return self.real.customers()

    def open_invoices(self) -> Iterator[list[ErpInvoice]]:
        return self.real.open_invoices()


def _term(o: Obligation) -> str:
    if o.recognition == Recognition.POINT_IN_TIME:
        return f"one-time, recognized on delivery {o.delivered_on or o.service_start}"
    if o.recognition == Recognition.MILESTONE:
        shares = "/".join(f"{p.normalize():f}" for p in o.milestones)
        return f"one-time, recognized as its milestones are reached ({shares}%)"
    return f"recurring, recognized ratably {o.service_start} to {o.service_end}"


def line_details(invoice: Invoice) -> tuple[str, ...]:
    return tuple(f"{line.description}: {format_money(line.amount_minor, invoice.currency)}"
                 for line in invoice.lines)
