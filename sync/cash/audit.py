"""The cash audit: each settled payout's balance transactions tied to posted entries, Clearing for
it netting to zero, and the billing balance against the Clearing account.

A charge's gross reaches Clearing with its invoice's payment, so it counts as tied when the ERP
has that invoice; everything else is tied by the entry keyed by its transaction. The balance
check compares Stripe's balance (available + pending) with Clearing plus what the cash run has
still to book: transactions are booked when their payout is reconciled, so a charge's fee, a
refund or a dispute not paid out yet is in Stripe's balance and not yet in Clearing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sync.cash.payouts import is_known, payout_posting
from sync.cash.postings import CashInputError, clearing_effect, for_transaction
from sync.money import format_money
from sync.ports_cash import (
    CHARGE,
    PAYOUT,
    BalanceTxn,
    CashErp,
    CashPayout,
    CashReads,
    Customers,
    no_customers,
)

BATCH = 100


@dataclass(frozen=True)
class CashFinding:
    kind: str  # payout_not_settled | clearing_vs_stripe_balance
    reason: str
    subject: str
    currency: str
    stripe_minor: int
    erp_minor: int


def _tied(erp: CashErp, txns: list[BalanceTxn], customers: Customers
          ) -> tuple[int, list[str]]:
    """What these transactions' entries did to Clearing, and the ones no entry ties."""
    keys = {t.id: f"stripe:{t.id}" for t in txns}
    posted = erp.posted(list(keys.values()))
    effect, loose = 0, []
    for txn in txns:
        try:
            posting = for_transaction(txn)
        except CashInputError:
            posting = None
        orphan = txn.category == CHARGE and not is_known(erp, txn, customers)
        if orphan or (posting is not None and keys[txn.id] not in posted):
            loose.append(txn.id)
        effect += posted.get(keys[txn.id], 0)
        if txn.category == CHARGE and txn.id not in loose:
            effect += txn.amount_minor  # the gross, with the invoice's payment
    return effect, loose


def check_payout(reads: CashReads, erp: CashErp, payout: CashPayout,
                 customers: Customers = no_customers) -> CashFinding | None:
    effect, loose, batch = 0, [], []
    for txn in reads.payout_transactions(payout.id):
        if txn.category == PAYOUT:
            continue
        batch.append(txn)
        if len(batch) == BATCH:
            part, missing = _tied(erp, batch, customers)
            effect, loose, batch = effect + part, loose + missing[:20], []
    part, missing = _tied(erp, batch, customers)
    effect += part + erp.posted([payout_posting(payout).external_id]).get(
        payout_posting(payout).external_id, 0)
    loose += missing
    if effect == 0 and not loose:
        return None
    unbooked = f"; not booked: {', '.join(loose[:20])}" if loose else ""
    return CashFinding(
        "payout_not_settled",
        f"Stripe payout {payout.id} of {format_money(payout.amount_minor, payout.currency)} "
        f"leaves {format_money(effect, payout.currency)} in Stripe Clearing instead of zero"
        f"{unbooked}",
        payout.id, payout.currency, 0, effect,
    )


def unbooked(reads: CashReads, erp: CashErp, *, since: date,
             customers: Customers = no_customers) -> dict[str, int]:
    """Per currency, what the balance transactions since `since` will still do to Clearing once
    booked: those of payouts not reconciled yet, and those not paid out at all."""
    found: dict[str, int] = {}
    batch: list[BalanceTxn] = []

    def settle() -> None:
        keys = {t.id: f"stripe:{t.source_id if t.category == PAYOUT else t.id}" for t in batch}
        posted = erp.posted(list(keys.values()))
        for txn in batch:
            try:
                posting = for_transaction(txn)
            except CashInputError:
                posting = None
            pending = clearing_effect(posting) if posting and keys[txn.id] not in posted else 0
            if txn.category == CHARGE and not is_known(erp, txn, customers):
                pending += txn.amount_minor  # its gross, which no invoice's payment brought in
            found[txn.currency] = found.get(txn.currency, 0) + pending
        batch.clear()

    for txn in reads.transactions(created_gte=since):
        batch.append(txn)
        if len(batch) == BATCH:
            settle()
    settle()
    return found


def audit_cash(
    reads: CashReads, erp: CashErp, *, since: date | None = None,
    customers: Customers = no_customers, figures: dict[str, dict[str, int]] | None = None,
) -> Iterator[CashFinding]:
    """Each paid payout (arriving since `since`) nets Clearing to zero, and Clearing plus what
    is still to be booked equals Stripe's balance (transactions since `since`), once Stripe has
    paid anything out."""
    seen = 0
    for payout in reads.payouts(arrival_gte=since):
        seen += 1
        if payout.status == "paid" and (found := check_payout(reads, erp, payout, customers)):
            yield found
    if not seen:
        # No money settles through Stripe here (invoices paid by wire or check, recorded out of
        # band): there is no balance to compare Clearing with.
        return
    waiting = unbooked(reads, erp, since=since or date(2000, 1, 1), customers=customers)
    for currency, amount in sorted(reads.balance().items()):
        clearing = erp.clearing_balance(currency)
        still = waiting.get(currency, 0)
        if figures is not None:  # for the digest's tie-out, as the audit saw them
            figures[currency] = {"stripe_balance": amount, "clearing": clearing,
                                 "clearing_to_book": still}
        if clearing + still != amount:
            yield CashFinding(
                "clearing_vs_stripe_balance",
                f"Stripe's balance is {format_money(amount, currency)} but Stripe Clearing "
                f"holds {format_money(clearing, currency)}, and what closebot has still to book "
                f"explains {format_money(still, currency)} of it: "
                f"{format_money(amount - clearing - still, currency)} is booked wrong or "
                "not at all. Compare Stripe's balance report with the Clearing account",
                f"balance:{currency}", currency, amount, clearing + still,
            )
