"""The cash audit: each settled payout's balance transactions tied to posted entries, Clearing for
it netting to zero, and the billing balance against the Clearing account.

A charge's gross reaches Clearing with its invoice's payment, so it counts as tied when the ERP
has that invoice; everything else is tied by the entry keyed by its transaction. The balance
check compares Stripe's balance (available + pending) with Clearing: the two agree once every
transaction has been reconciled with its payout; until then the difference is what is still in
Stripe's balance unreconciled (a charge's fee, a refund, a dispute not yet paid out).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sync.cash.payouts import payout_posting
from sync.cash.postings import CashInputError, for_transaction
from sync.money import format_money
from sync.ports_cash import CHARGE, PAYOUT, BalanceTxn, CashErp, CashPayout, CashReads

BATCH = 100


@dataclass(frozen=True)
class CashFinding:
    kind: str  # payout_not_settled | clearing_vs_stripe_balance
    reason: str
    subject: str
    currency: str
    stripe_minor: int
    erp_minor: int


def _tied(erp: CashErp, txns: list[BalanceTxn]) -> tuple[int, list[str]]:
    """What these transactions' entries did to Clearing, and the ones no entry ties."""
    keys = {t.id: f"stripe:{t.id}" for t in txns}
    posted = erp.posted(list(keys.values()))
    effect, loose = 0, []
    for txn in txns:
        try:
            posting = for_transaction(txn)
        except CashInputError:
            posting = None
        orphan = txn.category == CHARGE and (txn.invoice_id is None
                                             or not erp.has_invoice(txn.invoice_id))
        if orphan or (posting is not None and keys[txn.id] not in posted):
            loose.append(txn.id)
        effect += posted.get(keys[txn.id], 0)
        if txn.category == CHARGE and txn.id not in loose:
            effect += txn.amount_minor  # the gross, with the invoice's payment
    return effect, loose


def check_payout(reads: CashReads, erp: CashErp, payout: CashPayout) -> CashFinding | None:
    effect, loose, batch = 0, [], []
    for txn in reads.payout_transactions(payout.id):
        if txn.category == PAYOUT:
            continue
        batch.append(txn)
        if len(batch) == BATCH:
            part, missing = _tied(erp, batch)
            effect, loose, batch = effect + part, loose + missing[:20], []
    part, missing = _tied(erp, batch)
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


def audit_cash(
    reads: CashReads, erp: CashErp, *, arrival_gte: date | None = None
) -> Iterator[CashFinding]:
    for payout in reads.payouts(arrival_gte=arrival_gte):
        if payout.status == "paid" and (found := check_payout(reads, erp, payout)):
            yield found
    for currency, amount in sorted(reads.balance().items()):
        clearing = erp.clearing_balance(currency)
        if clearing != amount:
            yield CashFinding(
                "clearing_vs_stripe_balance",
                f"Stripe's balance is {format_money(amount, currency)} but Stripe Clearing "
                f"holds {format_money(clearing, currency)} (a difference of "
                f"{format_money(clearing - amount, currency)}): reconcile the open payouts, "
                "then look at the cash exceptions",
                f"balance:{currency}", currency, amount, clearing,
            )
