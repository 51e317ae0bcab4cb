"""Credit notes against finalized invoices.

As Stripe documents: a credit note first lowers the invoice's `amount_remaining` (and
`amount_due`), never below zero — that part is its `pre_payment_amount`, and an open invoice
credited down to zero becomes `paid`. Any excess is the `post_payment_amount`, which must be
allocated exactly by `refund_amount` (a refund of the invoice's charge), `credit_amount` (a credit
on the customer's balance, applied to their next invoice) and `out_of_band_amount`; otherwise 400.
Numbers are `<invoice number>-CN-01`, `-CN-02`… Voiding reverses the invoice and balance effects.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.invoices import mark_paid
from sandbox.stripe.objects import build, list_object, new_id
from sandbox.stripe.refunds import create_refund
from sandbox.stripe.state import State
from sandbox.stripe.wire import invalid, missing, require

LINE_SPEC = {"type": "str", "invoice_line_item": "str", "quantity": "int", "amount": "int",
             "unit_amount": "int", "description": "str", "metadata": "meta"}
CREATE_SPEC = {
    "invoice": "str", "amount": "int", "lines": [LINE_SPEC], "reason": "str", "memo": "str",
    "metadata": "meta", "credit_amount": "int", "refund_amount": "int",
    "out_of_band_amount": "int", "effective_at": "int", "email_type": "str",
}
REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _lines(st: State, inv: dict[str, Any], cn_id: str,
           specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, spec in enumerate(specs):
        prefix = f"lines[{i}]"
        kind = spec.get("type")
        if kind == "invoice_line_item":
            line = next((ln for ln in inv["lines"]["data"]
                         if ln["id"] == spec.get("invoice_line_item")), None)
            if line is None:
                raise invalid(f"No such invoice line item: '{spec.get('invoice_line_item')}'",
                              param=f"{prefix}[invoice_line_item]", code="resource_missing")
            qty = spec.get("quantity") or line["quantity"]
            unit = int(line["pricing"]["unit_amount_decimal"])
            amount = spec["amount"] if spec.get("amount") is not None else unit * qty
            extra = {"invoice_line_item": line["id"], "description": line["description"],
                     "unit_amount": None, "unit_amount_decimal": None}
        elif kind == "custom_line_item":
            if spec.get("unit_amount") is None:
                raise missing(f"{prefix}[unit_amount]")
            qty = spec.get("quantity") or 1
            amount = spec["unit_amount"] * qty
            extra = {"description": spec.get("description"), "unit_amount": spec["unit_amount"],
                     "unit_amount_decimal": str(spec["unit_amount"])}
        else:
            raise invalid("Invalid type: must be one of invoice_line_item, custom_line_item",
                          param=f"{prefix}[type]")
        item = build("credit_note_line_item", id=new_id("credit_note_line_item"), amount=amount,
                     quantity=qty, type=kind, metadata=spec.get("metadata") or {}, **extra)
        if kind == "custom_line_item":
            item["invoice_line_item"] = None
        out.append(item)
    return out


def create_credit_note(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "invoice")
    inv = st.get("invoice", p["invoice"], param="invoice")
    if inv["status"] not in ("open", "paid"):
        raise invalid("Credit notes can only be created for invoices that are open or paid. "
                      f"This invoice is {inv['status']}.", param="invoice")
    if p.get("reason") and p["reason"] not in REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason")
    cn_id = new_id("credit_note")
    lines = _lines(st, inv, cn_id, p.get("lines") or [])
    amount = sum(ln["amount"] for ln in lines) if lines else p.get("amount")
    if amount is None:
        raise invalid("You must pass either `amount` or `lines`.", code="parameter_missing",
                      param="amount")
    if lines and p.get("amount") is not None and p["amount"] != amount:
        raise invalid(f"The amount ({p['amount']}) does not match the sum of the lines "
                      f"({amount}).", param="amount")
    credited = sum(cn["amount"] for cn in st.all("credit_note")
                   if cn["invoice"] == inv["id"] and cn["status"] == "issued")
    if amount <= 0 or amount + credited > inv["total"]:
        raise invalid(f"The credit note amount ({amount}) must be positive and, with earlier "
                      f"credit notes ({credited}), at most the invoice total ({inv['total']}).",
                      param="amount")
    if not lines:
        lines = [build("credit_note_line_item", id=new_id("credit_note_line_item"),
                       amount=amount, quantity=1, type="custom_line_item",
                       description=p.get("memo") or "Credit", unit_amount=amount,
                       unit_amount_decimal=str(amount), metadata={})]
        lines[0]["invoice_line_item"] = None
    pre = min(amount, inv["amount_remaining"]) if inv["status"] == "open" else 0
    post = amount - pre
    refund_amt, credit_amt = p.get("refund_amount") or 0, p.get("credit_amount") or 0
    oob = p.get("out_of_band_amount") or 0
    if refund_amt + credit_amt + oob != post:
        raise invalid(f"The sum of credit amount, refund amount and out of band amount "
                      f"({refund_amt + credit_amt + oob}) must equal the credit note's "
                      f"post-payment amount ({post}).", param="amount")
    number = f"{inv['number']}-CN-{st.private(inv['id']).get('credit_notes', 0) + 1:02d}"
    st.private(inv["id"])["credit_notes"] = st.private(inv["id"]).get("credit_notes", 0) + 1
    cn = build(
        "credit_note", id=cn_id, created=st.now, effective_at=st.now, amount=amount,
        currency=inv["currency"], customer=inv["customer"], invoice=inv["id"], number=number,
        lines=list_object(lines, f"/v1/credit_notes/{cn_id}/lines"), memo=p.get("memo"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
        reason=p.get("reason"), status="issued", subtotal=amount, subtotal_excluding_tax=amount,
        total=amount, total_excluding_tax=amount, pre_payment_amount=pre,
        post_payment_amount=post, out_of_band_amount=oob or None, discount_amount=0,
        type="pre_payment" if post == 0 else "post_payment" if pre == 0 else "mixed",
        customer_balance_transaction=None,
    )
    if refund_amt:
        refund = create_refund(st, {"payment_intent": st.private(inv["id"]).get(
            "payment_intent"), "amount": refund_amt})
        cn["refunds"] = [{"amount_refunded": refund_amt, "refund": refund["id"],
                          "payment_record_refund": None, "type": "refund"}]
    if credit_amt:
        cn["customer_balance_transaction"] = _balance(st, inv, cn_id, -credit_amt)
    st.add(cn)
    inv["pre_payment_credit_notes_amount"] += pre
    inv["post_payment_credit_notes_amount"] += post
    if pre:
        inv["amount_due"] -= pre
        inv["amount_remaining"] -= pre
    st.emit("credit_note.created", cn)
    st.emit("invoice.updated", inv)
    if inv["status"] == "open" and inv["amount_remaining"] == 0:
        mark_paid(st, inv, amount=0)
    return cn


def _balance(st: State, inv: dict[str, Any], cn_id: str, amount: int) -> str:
    cus = st.get("customer", inv["customer"])
    cus["balance"] += amount
    txn = st.add(build(
        "customer_balance_transaction", id=new_id("customer_balance_transaction"),
        created=st.now, amount=amount, currency=inv["currency"], customer=cus["id"],
        credit_note=cn_id, invoice=inv["id"], ending_balance=cus["balance"], type="credit_note",
        metadata={}))
    st.emit("customer.updated", cus, {"balance": cus["balance"] - amount})
    return txn["id"]


def void_credit_note(st: State, cn_id: str) -> dict[str, Any]:
    cn = st.get("credit_note", cn_id)
    if cn["status"] == "void":
        raise invalid("This credit note has already been voided.")
    if cn["refunds"]:
        raise invalid("Credit notes with refunds cannot be voided.")
    inv = st.get("invoice", cn["invoice"])
    if cn["pre_payment_amount"] and inv["status"] != "open":
        raise invalid("This credit note cannot be voided because its invoice is no longer open.")
    inv["pre_payment_credit_notes_amount"] -= cn["pre_payment_amount"]
    inv["post_payment_credit_notes_amount"] -= cn["post_payment_amount"]
    inv["amount_due"] += cn["pre_payment_amount"]
    inv["amount_remaining"] += cn["pre_payment_amount"]
    if cn["customer_balance_transaction"]:
        credited = st.get("customer_balance_transaction", cn["customer_balance_transaction"])
        _balance(st, inv, cn_id, -credited["amount"])
    cn.update(status="void", voided_at=st.now)
    st.emit("credit_note.voided", cn)
    st.emit("invoice.updated", inv)
    return cn
