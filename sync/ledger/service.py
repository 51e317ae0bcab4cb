"""`Ledger`: the embedded ERP's service API. Every write is idempotent by external id."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ledger import (
    LedgerCreditMemo,
    LedgerCustomer,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerJournalEntry,
    LedgerPayment,
    LedgerSalesOrder,
)
from sync.ledger import close, delivery, fx, listing, records, reports
from sync.ledger.accounts import STRIPE_CLEARING, seed_chart
from sync.ledger.cash import create_cash_entries, create_cash_entry
from sync.ledger.closures import close_invoice
from sync.ledger.errors import CurrencyMismatchError, LedgerError
from sync.ledger.journal import PREFIXES, reverse_entry
from sync.ledger.modification_replan import replan_modification
from sync.ledger.recognition import recognize_billed, recognize_due
from sync.ledger.records import InvoiceLineIn, SalesOrderLineIn, find, require
from sync.ledger.settlements import create_credit_memo, create_payment
from sync.ports_cash import CashPosting
from sync.ports_revenue import RevenueDue

R = TypeVar(
    "R", LedgerCustomer, LedgerSalesOrder, LedgerInvoice, LedgerPayment, LedgerCreditMemo,
    LedgerInvoiceClosure, LedgerJournalEntry,
)


class Ledger:
    """Double-entry books in closebot's own database.

    A repeat of any write with the same external id returns the existing record's number and
    posts nothing, even when two processes race: the unique constraint lets one insert win and
    the loser re-reads the winner's record.
    """

    def __init__(self, session_factory: sessionmaker[Session], *,
                 functional_currency: str | None = None) -> None:
        if functional_currency:
            # Every posting reads it from its session (`sync.ledger.fx`), so each entry carries
            # its functional lines without threading the currency through every call.
            options = dict(session_factory.kw)
            options["info"] = {**options.get("info", {}), fx.FUNCTIONAL: functional_currency}
            session_factory = sessionmaker(class_=session_factory.class_, **options)
        self._sessions = session_factory
        self.functional_currency = functional_currency or None
        self._chart_ready = False

    def _ensure_chart(self) -> None:
        if self._chart_ready:
            return
        try:
            with transaction(self._sessions) as session:
                seed_chart(session)
        except IntegrityError:
            pass  # a concurrent process seeded it first
        self._chart_ready = True

    def _once(
        self,
        model: type[R],
        external_id: str,
        create: Callable[[Session], R],
        refresh: Callable[[Session], None] | None = None,
    ) -> str:
        self._ensure_chart()
        # Only the number is read back: a repeat (the common case on re-runs) loads no record.
        number_of = select(model.number).where(model.external_id == external_id)
        try:
            with transaction(self._sessions) as session:
                number = session.scalar(number_of)
                if number is not None and refresh is not None:
                    refresh(session)
                return number if number is not None else create(session).number
        except IntegrityError:
            with self._sessions() as session:
                number = session.scalar(number_of)
            if number is None:
                raise
            return number

    def upsert_customer(self, *, external_id: str, name: str, currency: str) -> str:
        def rename(session: Session) -> None:
            # The CRM owns the name: a rename there is carried over; nothing is posted for it.
            session.execute(
                update(LedgerCustomer)
                .where(LedgerCustomer.external_id == external_id, LedgerCustomer.name != name)
                .values(name=name)
            )

        return self._once(
            LedgerCustomer,
            external_id,
            lambda s: records.create_customer(
                s, external_id=external_id, name=name, currency=currency
            ),
            rename,
        )

    def upsert_sales_order(
        self,
        *,
        external_id: str,
        customer_external_id: str,
        currency: str,
        lines: Sequence[SalesOrderLineIn],
    ) -> str:
        return self._once(
            LedgerSalesOrder,
            external_id,
            lambda s: records.create_sales_order(
                s,
                external_id=external_id,
                customer=require(s, LedgerCustomer, customer_external_id),
                currency=currency,
                lines=lines,
            ),
        )

    def mark_delivered(self, *, opportunity_id: str, product: str, on: date | None, by: str,
                       today: date, allowed: frozenset[str] = frozenset()) -> delivery.Delivered:
        """Deliver a point-in-time obligation on `on` (None: undo), see `sync.ledger.delivery`."""
        with transaction(self._sessions) as session:
            return delivery.mark(session, opportunity_id=opportunity_id, product=product, on=on,
                                 by=by, today=today, allowed=allowed)

    def deliverables(self, opportunity_id: str) -> list[delivery.Delivered]:
        """The deal's point-in-time obligations not recognized yet, see `sync.ledger.delivery`."""
        with transaction(self._sessions) as session:
            return delivery.deliverables(session, opportunity_id)

    def close_period(self, *, period: str, by: str, today: date) -> close.CloseReport:
        """Month-end close, see `sync.ledger.close`."""
        self._ensure_chart()
        with transaction(self._sessions) as session:
            return close.close_period(session, period=period, by=by, today=today)

    def is_closed(self, period: str) -> bool:
        with transaction(self._sessions) as session:
            return close.is_closed(session, period)

    def revenue_due(self, *, through: date) -> list[RevenueDue]:
        """What a close through `through` would recognize, per currency."""
        with transaction(self._sessions) as session:
            return close.revenue_due(session, through)

    def post_invoice(
        self,
        *,
        external_id: str,
        customer_external_id: str,
        sales_order_external_id: str | None,
        number: str | None,
        currency: str,
        issued_on: date,
        due_on: date,
        lines: Sequence[InvoiceLineIn],
    ) -> str:
        def create(session: Session) -> LedgerInvoice:
            customer = require(session, LedgerCustomer, customer_external_id)
            order = None
            if sales_order_external_id is not None:
                order = require(session, LedgerSalesOrder, sales_order_external_id)
                if order.customer_id != customer.id:
                    raise LedgerError(f"sales order {order.number} belongs to another customer")
            return records.create_invoice(
                session, external_id=external_id, customer=customer, sales_order=order,
                billing_number=number, currency=currency, issued_on=issued_on, due_on=due_on,
                lines=lines,
            )

        return self._once(LedgerInvoice, external_id, create)

    def apply_payment(
        self,
        *,
        external_id: str,
        invoice_external_id: str,
        amount_minor: int,
        currency: str,
        paid_on: date,
        paid_from: str = STRIPE_CLEARING,
    ) -> str:
        return self._once(
            LedgerPayment,
            external_id,
            lambda s: create_payment(
                s, external_id=external_id,
                invoice=require(s, LedgerInvoice, invoice_external_id, lock=True),
                amount_minor=amount_minor, currency=currency, paid_on=paid_on,
                paid_from=paid_from,
            ),
        )

    def post_credit_memo(
        self,
        *,
        external_id: str,
        invoice_external_id: str,
        amount_minor: int,
        currency: str,
        reason: str,
        posted_on: date,
    ) -> str:
        return self._once(
            LedgerCreditMemo,
            external_id,
            lambda s: create_credit_memo(
                s, external_id=external_id,
                invoice=require(s, LedgerInvoice, invoice_external_id, lock=True),
                amount_minor=amount_minor, currency=currency, reason=reason, posted_on=posted_on,
            ),
        )

    def close_invoice(
        self, *, external_id: str, invoice_external_id: str, kind: str, posted_on: date
    ) -> str:
        """Void (`void`) or write off (`uncollectible`) what is still open on an invoice, and
        stop the revenue schedule for what it billed; once per external id."""
        return self._once(
            LedgerInvoiceClosure,
            external_id,
            lambda s: close_invoice(
                s, external_id=external_id,
                invoice=require(s, LedgerInvoice, invoice_external_id, lock=True),
                kind=kind, posted_on=posted_on,
            ),
        )

    def recognize_billed(self, *, invoice_external_id: str, through: date) -> int:
        """Recognize what the invoice billed that came due by `through` (`recognition.py`)."""
        self._ensure_chart()
        with transaction(self._sessions) as session:
            return recognize_billed(session, invoice_external_id=invoice_external_id,
                                    through=through)

    def post_cash(self, posting: CashPosting) -> str:
        """One cash movement's entry (`sync.ledger.cash`), once per external id."""
        return self._once(
            LedgerJournalEntry, posting.external_id, lambda s: create_cash_entry(s, posting)
        )

    def post_cash_many(self, postings: Sequence[CashPosting]) -> int:
        """Post, in one transaction, those of `postings` not posted yet; how many were. A race
        with another process posting the same ones retries them one by one."""
        if not postings:
            return 0
        self._ensure_chart()
        try:
            with transaction(self._sessions) as session:
                return create_cash_entries(session, postings)
        except IntegrityError:
            return sum(1 for p in postings if self.post_cash(p))

    def replan(self, *, opportunity_id: str, effective: date, remaining: Mapping[str, int],
               catch_up: Mapping[str, int]) -> int:
        """Re-plan the deal's schedules to a classified contract modification
        (`sync.ledger.modification_replan.replan_modification`); returns how many obligations
        moved."""
        self._ensure_chart()
        with transaction(self._sessions) as session:
            return replan_modification(session, opportunity_id=opportunity_id,
                                       effective=effective, remaining=remaining,
                                       catch_up=catch_up)

    def recognize_revenue(self, *, through: date) -> int:
        """Recognize every schedule row due by `through`; returns how many entries were posted."""
        self._ensure_chart()
        try:
            with transaction(self._sessions) as session:
                return recognize_due(session, through=through)
        except IntegrityError:
            # A concurrent run posted some of the same rows first; what's left is ours.
            with transaction(self._sessions) as session:
                return recognize_due(session, through=through)

    def reverse_entry(
        self, *, entry_number: str, external_id: str, posted_on: date, memo: str
    ) -> str:
        """Correct a posted entry by posting its mirror image; the original is never changed."""
        with self._sessions() as session:
            done = find(session, LedgerJournalEntry, external_id)
        if done:
            return done.number
        with transaction(self._sessions) as session:
            entry = session.scalar(
                select(LedgerJournalEntry).where(LedgerJournalEntry.number == entry_number)
            )
            if entry is None:
                raise LedgerError(f"no journal entry {entry_number}")
            return reverse_entry(
                session, entry, external_id=external_id, posted_on=posted_on, memo=memo
            ).number

    # Reads

    def account_balance(self, code: str, currency: str) -> int:
        with self._sessions() as session:
            return reports.account_balance(session, code, check_currency_code(currency))

    def trial_balance(self, currency: str) -> dict[str, int]:
        with self._sessions() as session:
            return reports.trial_balance(session, check_currency_code(currency))

    def functional_trial_balance(self) -> dict[str, int]:
        """Per account, in the functional currency (empty when none is configured)."""
        with self._sessions() as session:
            return fx.trial_balance(session)

    def ar_open_by_invoice(self) -> dict[str, int]:
        with self._sessions() as session:
            return reports.ar_open_by_invoice(session)

    def invoice(self, external_id: str) -> reports.InvoiceView | None:
        with self._sessions() as session:
            return reports.invoice_view(session, external_id)

    def unbalanced_entries(self) -> list[str]:
        with self._sessions() as session:
            return reports.unbalanced_entries(session)

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        with self._sessions() as session:
            return reports.duplicate_external_ids(session)

    def invoice_balances(self) -> list[tuple[str, str | None, int]]:
        with self._sessions() as session:
            return reports.invoice_balances(session)

    def customers_after(self, after: int, limit: int) -> list[listing.CustomerRow]:
        with self._sessions() as session:
            return listing.customers_after(session, after, limit)

    def open_invoices_after(
        self, after: int, limit: int
    ) -> tuple[list[listing.OpenInvoiceRow], int | None]:
        with self._sessions() as session:
            return listing.open_invoices_after(session, after, limit)

    def read(self, report: Callable[[Session], Any]) -> Any:
        """Run one read-only report (e.g. from `sync.ledger.audit_view`) in a session of its own."""
        with self._sessions() as session:
            return report(session)

    def external_id_for(self, number: str) -> str | None:
        """The upstream key of a record given its ledger number (`CUST-000001` → CRM id)."""
        model = _BY_PREFIX.get(number.partition("-")[0])
        if model is None:
            return None
        with self._sessions() as session:
            return session.scalar(select(model.external_id).where(model.number == number))


_BY_PREFIX = {
    PREFIXES[m.__tablename__]: m
    for m in (
        LedgerCustomer, LedgerSalesOrder, LedgerInvoice, LedgerPayment, LedgerCreditMemo,
        LedgerInvoiceClosure, LedgerJournalEntry,
    )
}


def check_currency_code(currency: str) -> str:
    if len(currency) != 3 or currency != currency.upper():
        raise CurrencyMismatchError(f"{currency!r} is not an upper-case ISO 4217 code")
    return currency
