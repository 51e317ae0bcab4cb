"""The post step's record: what the ERP now holds, written back in one transaction.

The links (customer, sales order, invoices, credit memos) by scope, each billing invoice's ERP
id and the payment posted on it, each credit approval's memo (and the re-plan after it), the
deal synced when no exception is left open, the audit log, and the write-back step armed. Kept
apart from the effect (`post.py`): it runs once for the batch, after every ERP call.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit, links, queue
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal
from sync.engine import exceptions, modification
from sync.engine.post import Posted
from sync.engine.runtime import Runtime
from sync.engine.work import Recorded, finish_all, split_duplicates, with_open_exceptions


def _post_links(p: Posted, erp: str) -> list[dict[str, str | None]]:
    opp = p.step.opportunity_id
    rows: list[dict[str, str | None]] = [
        {"scope": links.account_scope(p.contract.customer.crm_account_id), "system": erp,
         "kind": "customer", "external_id": p.customer_id, "opportunity_id": opp},
        {"scope": links.contract_scope(opp, p.step.version), "system": erp,
         "kind": "sales_order", "external_id": p.order_id, "opportunity_id": opp},
    ]
    rows += [{"scope": links.invoice_scope(billing_id), "system": erp, "kind": "invoice",
              "external_id": erp_invoice, "opportunity_id": opp}
             for billing_id, erp_invoice, _ in p.invoices]
    rows += [{"scope": f"credit:{approval_id}", "system": erp, "kind": "credit_memo",
              "external_id": memo, "opportunity_id": opp} for approval_id, memo in p.memos]
    return rows


def record_posts(rt: Runtime, posted: list[Posted]) -> Recorded:
    erp = rt.erp.name
    now = rt.now()
    with transaction(rt.sessions) as session:
        conflicts = links.record_many(session, [r for p in posted for r in _post_links(p, erp)])
        clean, duplicates = split_duplicates(posted, conflicts, lambda p: [
            (str(r["scope"]), erp, str(r["kind"])) for r in _post_links(p, erp)])
        done, outcomes = finish_all(session, rt, clean)
        paid = {billing_id: (erp_invoice, amount)
                for p in done for billing_id, erp_invoice, amount in p.invoices}
        if paid:
            for row in session.scalars(
                select(BillingInvoice).where(BillingInvoice.billing_id.in_(list(paid)))
            ):
                erp_invoice, amount = paid[row.billing_id]
                row.erp_invoice_id = erp_invoice
                row.erp_paid_minor = max(row.erp_paid_minor or 0, amount)
        _record_memos(session, [m for p in done for m in p.memos], erp)
        for opp, _ in with_open_exceptions(session, [p.step for p in done]):
            exceptions.resolve(session, opportunity_id=opp, kinds=["post"])
        still_open = set(with_open_exceptions(session, [p.step for p in done]))
        deals = {d.opportunity_id: d for d in session.scalars(
            select(Deal).where(Deal.opportunity_id.in_([p.step.opportunity_id for p in done])))}
        for p in done:
            deal = deals.get(p.step.opportunity_id)
            if (
                deal is not None
                and deal.current_version == p.step.version
                and deal.status in ("pending", "exception")
                and (p.step.opportunity_id, p.step.version) not in still_open
            ):
                deal.status, deal.message = "synced", None
        audit.append_many(session, [
            {"action": "posted", "opportunity_id": p.step.opportunity_id,
             "subject": links.contract_scope(p.step.opportunity_id, p.step.version),
             "data": {"erp": erp, "customer": p.customer_id, "sales_order": p.order_id,
                      "invoices": [i[1] for i in p.invoices]}}
            for p in done
        ])
        queue.arm_many(session, [
            (p.step.opportunity_id, p.step.version, "writeback", now) for p in done
        ])
    return Recorded(outcomes, duplicates)


def _record_memos(session: Session, memos: list[tuple[int, str]], erp: str) -> None:
    if not memos:
        return
    found = {ap.id: ap for ap in session.scalars(
        select(Approval).where(Approval.id.in_([approval_id for approval_id, _ in memos])))}
    for approval_id, memo in memos:
        ap = found[approval_id]
        ap.payload = {**(ap.payload or {}), "credit_memo": memo}
        modification.replan_after_credit(session, ap)
        audit.append(session, action="credit.memo_posted", opportunity_id=ap.opportunity_id,
                     subject=f"approval:{approval_id}", invoice=ap.subject,
                     downstream=[f"{erp}:credit_memo:{memo}"])
