"""The revenue subledger closebot keeps when the ERP is NetSuite or Sage Intacct.

The embedded ledger's sales orders carry the revenue schedules (per obligation, per period, at
the allocated price), so with another ERP closebot records each contract version there as well:
the same rows, planned by the same code, re-planned the way the ledger re-plans them. Every
invoice, payment, credit memo, void and write-off the ERP accepts is then recorded there too,
through the same `LedgerErp` calls the ledger as ERP receives: a credit memo shrinks the rows
its invoice billed (`sync/ledger/replan.py`), a void or write-off stops them
(`sync/ledger/closures.py`), and a cancellation is its credits. So the schedules follow every
contract change the ledger follows, with nothing of that logic repeated here. The ERP keeps its
own books of those records; the subledger's copies only steer the schedules. Month-end close
posts what the schedules release to the ERP as journal entries
(`sync/ledger/subledger_close.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, ParamSpec

from sync.connectors.ledger import LedgerErp
from sync.ledger import Ledger
from sync.ledger.erp_reversals import post_reversal, voids
from sync.ledger.listing import order_for_version
from sync.ledger.periods import posting_day
from sync.model import ClosureKind, Contract, CreditNote, Invoice, InvoiceClosure, Payment
from sync.ports_books import SubledgerVoid
from sync.ports_revenue import RevenueJournal

P = ParamSpec("P")


class RevenueSubledger:
    def __init__(self, ledger: Ledger, *, recognize_on_delivery: bool = False,
                 journal_of: Callable[[Any], RevenueJournal | None] | None = None) -> None:
        self.ledger = ledger
        self.recognize_on_delivery = recognize_on_delivery
        self._orders = LedgerErp(ledger, recognize_on_delivery=recognize_on_delivery)
        # The ERP's revenue journal, for a void's revenue reversal; made from the ERP that
        # booked the void (a legal entity's view of it posts under that entity).
        self.journal_of = journal_of

    def follow(self, record: object, *, erp: object = None) -> None:
        """Record what the ERP (`erp`) has just accepted; each is kept once by its external ID,
        so a replay records nothing new."""
        if isinstance(record, Contract):
            self.record(record)
        elif isinstance(record, Invoice):
            self.post_invoice(record)
        elif not isinstance(record, Payment | CreditNote | InvoiceClosure):
            return
        elif self.ledger.invoice(record.invoice_billing_id) is None:
            # An invoice the ERP received before its deal had a schedule here: nothing of its
            # schedule to change.
            return
        elif isinstance(record, Payment):
            self._orders.apply_payment(record, invoice_id=record.invoice_billing_id)
        elif isinstance(record, CreditNote):
            self._orders.post_credit_memo(record, invoice_id=record.invoice_billing_id)
        else:
            if record.kind is ClosureKind.UNCOLLECTIBLE:
                # Revenue earned before a write-off stays revenue; the ERP's memo counts it
                # earned (bad debt), so the next close posts it.
                self.ledger.recognize_billed(invoice_external_id=record.invoice_billing_id,
                                             through=record.closed_on)
            self._orders.close_invoice(record, invoice_id=record.invoice_billing_id)
            self._reverse(record, erp)

    def _reverse(self, closure: InvoiceClosure, erp: object) -> None:
        """A void's reversal of revenue the closes had posted, posted to the ERP
        (`sync/ledger/erp_reversals.py`). Run on every replay of the void too: one that
        crashed before the ERP answered posts it then, one that had posted finds it."""
        journal = self.journal_of(erp) if self.journal_of and erp is not None else None
        if journal is not None:
            post_reversal(self.ledger, journal, closure.key)

    def voids(self) -> list[SubledgerVoid]:
        """Every void followed here, with the revenue its ERP reversal entry debits (the
        audit's reference for that entry)."""
        found: list[SubledgerVoid] = self.ledger.read(voids)
        return found

    def record(self, contract: Contract) -> None:
        """The contract version's schedules, once: a replay finds the order by its key. A
        version with no line (a cancellation's) plans nothing: what it ends is booked by its
        credits."""
        if not contract.obligations:
            return
        customer = self._orders.upsert_customer(contract.customer, currency=contract.currency)
        self._orders.upsert_sales_order(contract, customer_id=customer)

    def post_invoice(self, invoice: Invoice) -> None:
        """Filed under the contract version's order, so each line names the schedule it bills
        (as on the ledger). A deal with no order here (posted before the subledger kept its
        schedules, or not a deal's invoice) has no schedule to follow."""
        if invoice.opportunity_id is None:
            return
        order = self.ledger.read(lambda s: order_for_version(
            s, str(invoice.opportunity_id), invoice.contract_version))
        if order is None:
            return
        key, customer = order
        self._orders.post_invoice(invoice, customer_id=customer, sales_order_id=key)

    def replan(self, *, opportunity_id: str, effective: date, remaining: Mapping[str, int],
               catch_up: Mapping[str, int]) -> int:
        """The schedules re-planned to a contract modification, as the ledger re-plans its own."""
        return self._orders.replan(opportunity_id=opportunity_id, effective=effective,
                                   remaining=remaining, catch_up=catch_up)


def booked_on(subledger: RevenueSubledger | None, day: date) -> tuple[date, str]:
    """The day to date an ERP record of `day` (a credit memo) on, and a memo note when it moved:
    the day the subledger books it, the first open day when closebot has closed `day`'s month.
    So the ERP's Deferred Revenue of a closed month stays what its close reported, and the
    record falls in the month whose roll-forward counts it, as on the ledger."""
    if subledger is None:
        return day, ""
    return subledger.ledger.read(lambda session: posting_day(session, day))


def followed(post: Callable[P, str]) -> Callable[P, str]:
    """An ERP posting (a method taking the record first), then the same record in the
    subledger. After the ERP has accepted it: a schedule changed for a record the ERP refused
    would post the wrong revenue. A crash in between replays the posting, which the ERP finds by
    its external ID, and records it then."""

    @functools.wraps(post)
    def posting(*args: P.args, **kwargs: P.kwargs) -> str:
        done = post(*args, **kwargs)
        erp, record = args[0], args[1]
        subledger: RevenueSubledger | None = getattr(erp, "subledger", None)
        if subledger is not None:
            subledger.follow(record, erp=erp)
        return done

    return posting
