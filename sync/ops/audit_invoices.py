"""Invoice by invoice: what Stripe billed equals what the ERP invoiced, and what the ERP holds
receivable equals what Stripe says is still to pay.

Both sides are net: Stripe's invoice total less its credit notes (nothing when voided), the
ERP's invoice total less its credit memos and reversals. A void takes the invoice back in the
ERP too (a reversing closure on the ledger, the `<invoice>:void` credit memo in NetSuite). A
write-off does not: Stripe keeps an uncollectible invoice billed and owed, while the ERP takes
its receivable to bad debt (`<invoice>:uncollectible`), so that memo does not lower what the ERP
invoiced (docs/architecture.md, "Voids, write-offs and tax"), until a void follows it: then the
write-off took the invoice back. NetSuite and Sage Intacct book no document for a void that finds
nothing open, so there closebot's subledger tells it was accepted. Receivable: Stripe's
`amount_remaining` while the invoice is open, nothing once it is paid, void or uncollectible
(written off in the ERP).
Drafts are not compared (the ERP gets an invoice once it is final); invoices closebot did not
make (no opportunity in their metadata) are not closebot's to post.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sync.ops.audit_variance import Found, Side, money
from sync.ports import BilledCredit, BilledInvoice, PostedCredit, PostedInvoice, PostedOrder
from sync.ports_cash import REFUND_MEMO


@dataclass
class ErpView:
    name: str  # how the ERP is named to a reader: "the ledger", "NetSuite"
    invoices: dict[str, PostedInvoice] = field(default_factory=dict)
    credits: dict[str, PostedCredit] = field(default_factory=dict)
    orders: list[PostedOrder] = field(default_factory=list)
    # Credit memos the ERP itself ties to an invoice: invoice → [(memo, amount)].
    memos_of: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # Refunds' credit memos: left to the cash audit here, but they take deferred revenue too.
    refunds: list[PostedCredit] = field(default_factory=list)
    # Invoices whose void the ERP accepted, as closebot's subledger recorded it (NetSuite, Sage
    # Intacct): after a write-off the void books no document there.
    voided: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, name: str, invoices: list[PostedInvoice], credits: list[PostedCredit],
              orders: list[PostedOrder]) -> ErpView:
        memos: dict[str, list[tuple[str, int]]] = defaultdict(list)
        # A refund's credit memo is money paid back, not a Stripe credit note: Stripe's invoice
        # stays billed, and the cash audit ties the refund out (Clearing per payout).
        refunds = [c for c in credits if c.external_id.startswith(REFUND_MEMO)]
        credits = [c for c in credits if not c.external_id.startswith(REFUND_MEMO)]
        for c in credits:
            if c.invoice_external_id:
                memos[c.invoice_external_id].append((c.external_id, c.amount_minor))
        return cls(name, {i.external_id: i for i in invoices},
                   {c.external_id: c for c in credits}, orders, dict(memos), refunds)

    def orders_of(self, opportunity_id: str) -> list[PostedOrder]:
        return [o for o in self.orders if o.external_id.startswith(f"{opportunity_id}:v")]

    def credited(self, invoice_id: str, notes: list[BilledCredit]) -> int:
        """Credit memos on one invoice: those carrying its credit notes' ids, and any other
        memo the ERP itself ties to the invoice, but a write-off's only once a void follows it
        (the void turns the write-off into taking the invoice back)."""
        ids = {n.id for n in notes}
        known = sum(self.credits[i].amount_minor for i in ids if i in self.credits)
        memos = self.memos_of.get(invoice_id, [])
        voided = invoice_id in self.voided or any(
            memo == f"{invoice_id}:void" for memo, _ in memos)
        return known + sum(amount for memo, amount in memos if memo not in ids and (
            voided or memo != f"{invoice_id}:uncollectible"))


def expected_open(inv: BilledInvoice) -> int:
    return inv.amount_remaining_minor if inv.status == "open" else 0


def check_invoices(found: Found, invoices: list[BilledInvoice], credits: list[BilledCredit],
                   erp: ErpView) -> None:
    notes: dict[str, list[BilledCredit]] = defaultdict(list)
    for note in credits:
        if note.status != "void":
            notes[note.invoice_id].append(note)
    stripe_ids = {inv.id for inv in invoices}
    for inv in invoices:
        if inv.opportunity_id and inv.status != "draft":
            _one(found, inv, notes[inv.id], erp)
    for ext, posted in sorted(erp.invoices.items()):
        if ext not in stripe_ids:
            total, cur = posted.total_minor, posted.currency
            found.add("erp_invoice_unknown",
                      f"{erp.name} holds invoice {ext} ({money(total, cur)}) that Stripe does "
                      "not have", sides=(Side(erp.name, f"invoice {ext}", total, cur, ext),
                                         Side("Stripe", f"invoice {ext}", None, cur, ext)),
                      difference=total, currency=cur or None)
    note_ids = {n.id for n in credits}
    for ext, memo in sorted(erp.credits.items()):
        if ext not in note_ids and memo.invoice_external_id is None:
            amount, cur = memo.amount_minor, memo.currency
            found.add("erp_credit_unknown",
                      f"{erp.name} holds credit memo {ext} ({money(amount, cur)}) for no Stripe "
                      "credit note, so no invoice it can be checked against",
                      sides=(Side(erp.name, f"credit memo {ext}", amount, cur, ext),),
                      difference=amount, currency=cur)


def _one(found: Found, inv: BilledInvoice, notes: list[BilledCredit], erp: ErpView) -> None:
    opp, cur = inv.opportunity_id, inv.currency
    label = f"invoice {inv.number or inv.id}"
    stripe_net = (0 if inv.status == "void" else inv.total_minor) - sum(
        n.amount_minor for n in notes)
    posted = erp.invoices.get(inv.id)
    if posted is None:
        if stripe_net or inv.status == "open":
            found.add("invoice_not_posted",
                      f"Stripe billed {label} ({money(stripe_net, cur)}) but it is not in "
                      f"{erp.name}", opp=opp,
                      sides=(Side("Stripe", f"{label} net", stripe_net, cur, inv.id),
                             Side(erp.name, f"invoice {inv.id}", None, cur, inv.id)),
                      difference=stripe_net, currency=cur)
        return
    erp_net = posted.total_minor - erp.credited(inv.id, notes) - posted.reversed_minor
    found.compare(
        "invoiced_mismatch",
        Side("Stripe", f"{label}, {inv.status}, net of credit notes", stripe_net, cur, inv.id),
        Side(erp.name, f"invoice {inv.id} net of credit memos and reversals", erp_net, cur,
             inv.id),
        f"{label}: Stripe billed {money(stripe_net, cur)} net but {erp.name} invoiced "
        f"{money(erp_net, cur)} net" + (" (Stripe voided it; the ERP did not reverse it)"
                                        if inv.status == "void" and erp_net else ""), opp=opp)
    found.compare(
        "receivable_mismatch",
        Side(erp.name, f"receivable on invoice {inv.id}", posted.open_minor, cur, inv.id),
        Side("Stripe", f"{label} amount remaining, {inv.status}", expected_open(inv), cur,
             inv.id),
        f"{label}: {erp.name} holds {money(posted.open_minor, cur)} receivable but Stripe says "
        f"{money(expected_open(inv), cur)} is still to pay (the invoice is {inv.status})", opp=opp)
    if posted.open_minor < -found.tolerance:
        found.add("receivable_credit",
                  f"{label}: accounts receivable has a credit balance of "
                  f"{money(-posted.open_minor, cur)} in {erp.name}", opp=opp,
                  sides=(Side(erp.name, f"receivable on invoice {inv.id}", posted.open_minor,
                              cur, inv.id),), difference=posted.open_minor, currency=cur)
