"""Credits approved in Slack, checked in an ERP that keeps its own revenue schedules (NetSuite,
Sage Intacct).

The embedded ledger's credits are checked per obligation from its general ledger
(`audit_books`). NetSuite's are read from the credit memos' lines: each memo may book to contra
revenue (its "Credit" line) only the part of the credit its invoice had already earned on the
credit's date; the rest must come out of deferred revenue through the invoice's own items (Sage
Intacct's AR adjustments say the same by GL account, Credits & Allowances or deferred). What
was earned is closebot's record of the credit (the approval's note, with each invoice line and
what it had earned, `sync.engine.invoice_closures.with_earned`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import Approval
from sync.model import CreditNote
from sync.ops.audit_invoices import ErpView
from sync.ops.audit_variance import Found, Side, money


def check_credit_memos(found: Found, session: Session, erp: ErpView) -> None:
    for opp, payload in session.execute(select(Approval.opportunity_id, Approval.payload).where(
            Approval.kind == "credit", Approval.status == "approved")):
        body = (payload or {}).get("note")
        if not body:
            continue
        note = CreditNote.model_validate(body)
        posted = erp.credits.get(note.billing_id)
        if posted is None or posted.contra_minor is None:
            continue  # not posted yet (the invoice's post step owes it), or read another way
        cur, earned = note.currency, note.amount_minor - note.unearned_minor
        found.compare(
            "credit_split_mismatch",
            Side(erp.name, f"credit memo {note.billing_id}: to contra revenue",
                 posted.contra_minor, cur, note.billing_id),
            Side("closebot", f"credit {note.billing_id}: the part already earned on "
                 f"{note.created_at.date().isoformat()}", earned, cur, note.billing_id),
            f"the credit memo for {note.billing_id} books {money(posted.contra_minor, cur)} to "
            f"contra revenue, but only {money(earned, cur)} of the credit had been earned; the "
            "rest belongs against deferred revenue", opp=opp)
