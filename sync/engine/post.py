"""The post step: the ERP customer, the sales order of a contract version (or an amendment's
change order), and the version's invoices with what was paid and credited on them, and with
their void or write-off. Each invoice line is matched to the obligation it bills first: an
invoice with an amount no obligation explains is an exception, never posted (its tax is fine:
it goes to sales tax payable).

The step reads in `post_load.py` and records in `post_record.py`; this is its effect, the ERP
calls for one deal's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage import links
from sync.cash.application import payment_to_post
from sync.contracts.billed_lines import attribute, unexplained_reason
from sync.engine.invoice_closures import closure_of, with_earned
from sync.engine.post_load import PostInput
from sync.engine.runtime import Runtime
from sync.engine.unapplied_cash import book_unapplied
from sync.engine.work import StepInput
from sync.errors import PermanentError
from sync.model import Contract, InvoiceStatus
from sync.ports_revenue import CrmDeliveries, DeliveryRefused, ReplannedSchedules


def _replan(erp: ReplannedSchedules, contract: Contract, record: dict[str, object]) -> None:
    """The ERP's schedules moved to the amendment's classification, after its change order."""
    remaining, catch_up = record.get("remaining"), record.get("catch_up")
    erp.replan(opportunity_id=contract.opportunity_id,
               effective=date.fromisoformat(str(record["effective_on"])),
               remaining={str(k): int(v) for k, v in (remaining or {}).items()}
               if isinstance(remaining, dict) else {},
               catch_up={str(k): int(v) for k, v in (catch_up or {}).items()}
               if isinstance(catch_up, dict) else {})


@dataclass(frozen=True)
class Posted:
    step: StepInput
    contract: Contract
    customer_id: str
    order_id: str
    invoices: list[tuple[str, str, int]]  # billing invoice, ERP invoice, amount paid posted
    memos: list[tuple[int, str]]  # credit approval, ERP credit memo


def post_effect(rt: Runtime, step: StepInput, batch: dict[int, PostInput | Exception]) -> Posted:
    loaded = batch.get(step.item_id) or LookupError(f"{step.opportunity_id} was not loaded")
    if isinstance(loaded, Exception):
        raise loaded
    contract, basis, prior_order, mirrored = (
        loaded.contract, loaded.basis, loaded.prior_order, loaded.invoices)
    erp, linked = rt.erp_for(contract.entity), loaded.linked
    customer_id = linked.get((links.account_scope(contract.customer.crm_account_id), "customer")
                             ) or erp.upsert_customer(contract.customer, currency=contract.currency)
    order_id = prior_order or erp.upsert_sales_order(basis, customer_id=customer_id)
    if isinstance(erp, CrmDeliveries):
        try:
            erp.deliver_from_crm(contract, today=rt.now().date())
        except DeliveryRefused as refused:
            raise PermanentError(f"Delivered On: {refused}", system="erp") from None
    # The schedules closebot keeps: the ledger's own, or its revenue subledger beside another ERP.
    schedules = erp if isinstance(erp, ReplannedSchedules) else getattr(erp, "subledger", None)
    if loaded.replan and isinstance(schedules, ReplannedSchedules):
        _replan(schedules, contract, loaded.replan)
    posted: list[tuple[str, str, int]] = []
    memos: list[tuple[int, str]] = []
    unexplained: list[str] = []
    for billed, paid_in_erp in mirrored:
        if billed.total_minor == 0 and not billed.lines:
            continue  # a future start's empty first invoice: nothing to book
        invoice, problems = attribute(billed, loaded.contracts)
        linked_invoice = linked.get((links.invoice_scope(invoice.billing_id), "invoice"))
        if problems and linked_invoice is None and invoice.billing_id not in loaded.in_erp:
            # A void invoice the ERP never saw has nothing left to book; any other waits for a
            # person. (One the ERP already holds was posted before: it is not judged again.)
            if invoice.status != InvoiceStatus.VOID:
                unexplained.append(unexplained_reason(invoice, problems))
            continue
        erp_invoice = linked_invoice or erp.post_invoice(invoice, customer_id=customer_id,
                                                         sales_order_id=order_id)
        payment = payment_to_post(invoice, paid_in_erp=paid_in_erp, now=rt.now())
        if payment is not None:
            erp.apply_payment(payment, invoice_id=erp_invoice)
        book_unapplied(rt, invoice, erp_invoice=erp_invoice)
        posted.append((invoice.billing_id, erp_invoice, invoice.amount_paid_minor))
        memos += [(approval_id, erp.post_credit_memo(with_earned(note, invoice, loaded.contracts),
                                                     invoice_id=erp_invoice))
                  for approval_id, note in loaded.memos.get(invoice.billing_id, [])]
        closure = closure_of(invoice, loaded.contracts, today=rt.now().date())
        if closure is not None:
            erp.close_invoice(closure, invoice_id=erp_invoice)
    if unexplained:
        # Everything else is in the ERP; the step ends as an exception a person can act on.
        raise PermanentError(" ".join(unexplained), system="erp")
    return Posted(step, contract, customer_id, order_id, posted, memos)
