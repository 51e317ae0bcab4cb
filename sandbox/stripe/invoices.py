"""Invoices: lines, totals, the status machine (draft → open → paid | void | uncollectible).

Stripe behaviour kept: numbers are given at finalization (`<customer invoice_prefix>-0001`, per
customer); finalization applies the customer's balance (a credit lowers `amount_due`, recorded as
an `applied_to_invoice` customer balance transaction) and an invoice due nothing is paid at once;
`send_invoice` invoices get `due_date = finalized_at + days_until_due`; paying a draft finalizes it
first; a decline keeps the invoice open, counts the attempt and returns 402. Retries reuse the
invoice's payment intent, as Stripe does. Illegal transitions answer 400 with Stripe's wording.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.catalog import owned_payment_method
from sandbox.stripe.clock import DAY, HOUR
from sandbox.stripe.objects import build, list_object, new_id, random_token
from sandbox.stripe.payments import confirm, new_payment_intent
from sandbox.stripe.state import State, snapshot
from sandbox.stripe.tax_rates import apply_taxes
from sandbox.stripe.wire import StripeError, invalid

# Stripe writes "2 <U+00D7> Seat (at $20.00 / month)": a real multiplication sign, not an x
TIMES = "\u00d7"
RETRY_AFTER = 3 * DAY
MAX_ATTEMPTS = 4
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider "
    "adding a default payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting"
    "#payment-method-priority."
)


def describe(price: dict[str, Any], product: dict[str, Any], quantity: int) -> str:
    recurring = price["recurring"]
    unit = f"${price['unit_amount'] / 100:,.2f}"
    if not recurring:
        return product["name"]
    every = recurring["interval"] if recurring["interval_count"] == 1 else (
        f"every {recurring['interval_count']} {recurring['interval']}s")
    return f"{quantity} {TIMES} {product['name']} (at {unit} / {every})"


def new_line(st: State, inv: dict[str, Any], *, amount: int, quantity: int,
             description: str | None, period: dict[str, int], price: dict[str, Any] | None,
             subscription: str | None = None, subscription_item: str | None = None,
             invoice_item: str | None = None, unit_amount: int | None = None,
             tax_rates: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    proration = {"credited_items": None}
    if invoice_item:
        parent = {"type": "invoice_item_details", "subscription_item_details": None,
                  "invoice_item_details": {"invoice_item": invoice_item, "proration": False,
                                           "proration_details": proration,
                                           "subscription": subscription}}
    else:
        parent = {"type": "subscription_item_details", "invoice_item_details": None,
                  "subscription_item_details": {
                      "invoice_item": None, "proration": False, "proration_details": proration,
                      "subscription": subscription, "subscription_item": subscription_item}}
    unit = unit_amount if unit_amount is not None else (
        price["unit_amount"] if price else amount)
    line = build(
        "line_item", id=new_id("line_item"), amount=amount, currency=inv["currency"],
        description=description, invoice=inv["id"], period=period, quantity=quantity,
        subscription=subscription, parent=parent, subtotal=amount,
        pricing={"type": "price_details", "unit_amount_decimal": str(unit),
                 "price_details": {"price": price["id"], "product": price["product"]}
                 if price else None},
    )
    if tax_rates:
        # The line's own rates (its item's); without them the invoice's defaults apply.
        st.private(line["id"])["tax_rates"] = [r["id"] for r in tax_rates]
    inv["lines"]["data"].append(line)
    return line


def new_invoice(st: State, cus: dict[str, Any], *, billing_reason: str, collection_method: str,
                currency: str, subscription: dict[str, Any] | None = None,
                days_until_due: int | None = None, period: tuple[int, int] | None = None,
                auto_advance: bool = False, **fields: Any) -> dict[str, Any]:
    inv_id = new_id("invoice")
    start, end = period or (st.now, st.now)
    inv = build(
        "invoice", id=inv_id, created=st.now, customer=cus["id"], currency=currency,
        customer_email=cus["email"], customer_name=cus["name"], customer_phone=cus["phone"],
        customer_address=cus["address"], billing_reason=billing_reason,
        collection_method=collection_method, status="draft", period_start=start,
        period_end=end, auto_advance=auto_advance, attempt_count=0, attempted=False,
        amount_due=0, amount_paid=0, amount_remaining=0, subtotal=0, total=0,
        subtotal_excluding_tax=0, total_excluding_tax=0, number=None,
        starting_balance=cus["balance"], ending_balance=None, hosted_invoice_url=None,
        invoice_pdf=None, post_payment_credit_notes_amount=0, pre_payment_credit_notes_amount=0,
        subscription=subscription["id"] if subscription else None,
        lines=list_object([], f"/v1/invoices/{inv_id}/lines"), **fields,
    )
    if subscription:
        inv["parent"] = {"type": "subscription_details", "quote_details": None,
                         "subscription_details": {"metadata": dict(subscription["metadata"]),
                                                  "subscription": subscription["id"]}}
        inv["default_tax_rates"] = snapshot(subscription["default_tax_rates"])
    if auto_advance:
        inv["automatically_finalizes_at"] = st.now + HOUR
        inv["next_payment_attempt"] = st.now + HOUR if collection_method == (
            "charge_automatically") else None
    st.private(inv_id)["days_until_due"] = days_until_due
    return st.add(inv)


def pull_pending_items(st: State, inv: dict[str, Any], subscription: str | None) -> None:
    """Pending invoice items join the customer's next invoice (subscription-scoped ones only
    that subscription's)."""
    for ii in sorted(st.all("invoiceitem"), key=lambda o: o["date"]):
        if ii["customer"] != inv["customer"] or ii["invoice"] is not None:
            continue
        scoped = (ii["parent"] or {}).get("subscription_details", {}).get("subscription")
        if scoped and scoped != subscription:
            continue
        attach_item(st, inv, ii)


def attach_item(st: State, inv: dict[str, Any], ii: dict[str, Any]) -> None:
    price = st.find("price", (ii["pricing"].get("price_details") or {}).get("price"))
    ii["invoice"] = inv["id"]
    new_line(st, inv, amount=ii["amount"], quantity=ii["quantity"],
             description=ii["description"], period=ii["period"], price=price,
             invoice_item=ii["id"], unit_amount=int(ii["pricing"]["unit_amount_decimal"]),
             subscription=(ii["parent"] or {}).get("subscription_details", {}).get(
                 "subscription"), tax_rates=ii["tax_rates"])
    recompute(st, inv)


def recompute(st: State, inv: dict[str, Any]) -> None:
    """Totals of a draft from its lines and their tax rates (discounts are not emulated)."""
    subtotal = sum(line["amount"] for line in inv["lines"]["data"])
    exclusive, inclusive = apply_taxes(st, inv)
    total = subtotal + exclusive
    inv.update(subtotal=subtotal, subtotal_excluding_tax=subtotal - inclusive, total=total,
               total_excluding_tax=subtotal - inclusive, amount_due=max(total, 0),
               amount_remaining=max(total, 0))


def finalize(st: State, inv: dict[str, Any]) -> dict[str, Any]:
    if inv["status"] != "draft":
        raise invalid("This invoice is already finalized, you can't re-finalize a non-draft "
                      "invoice.", code="invoice_not_editable")
    cus = st.get("customer", inv["customer"])
    before = cus["balance"]
    applied = max(before, -inv["total"]) if before < 0 else before
    inv["number"] = f"{cus['invoice_prefix']}-{cus['next_invoice_sequence']:04d}"
    cus["next_invoice_sequence"] += 1
    token = random_token(40)
    inv.update(
        status="open", starting_balance=before, ending_balance=before - applied,
        amount_due=max(inv["total"] + applied, 0), effective_at=st.now,
        hosted_invoice_url=f"https://invoice.stripe.com/i/acct_closebot/test_{token}",
        invoice_pdf=f"https://pay.stripe.com/invoice/acct_closebot/test_{token}/pdf",
        automatically_finalizes_at=None, webhooks_delivered_at=st.now,
    )
    inv["amount_remaining"] = inv["amount_due"]
    inv["status_transitions"]["finalized_at"] = st.now
    if applied:
        cus["balance"] = before - applied
        st.add(build("customer_balance_transaction", id=new_id("customer_balance_transaction"),
                     created=st.now, amount=-applied, currency=inv["currency"],
                     customer=cus["id"], ending_balance=cus["balance"], invoice=inv["id"],
                     type="applied_to_invoice", metadata={}))
    days = st.private(inv["id"]).get("days_until_due")
    if inv["collection_method"] == "send_invoice" and inv["due_date"] is None:
        inv["due_date"] = st.now + (days or 0) * DAY
    if inv["collection_method"] == "charge_automatically":
        inv["next_payment_attempt"] = st.now if inv["auto_advance"] else None
    st.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_paid(st, inv, amount=0)
    return inv


def mark_paid(st: State, inv: dict[str, Any], *, amount: int) -> None:
    inv.update(status="paid", amount_paid=inv["amount_paid"] + amount, amount_remaining=0,
               next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["paid_at"] = st.now
    st.emit("invoice.paid", inv)
    st.emit("invoice.payment_succeeded", inv)
    _sync_subscription(st, inv, "paid")


def payment_method_for(st: State, inv: dict[str, Any], requested: str | None) -> str | None:
    if requested:
        return owned_payment_method(st, requested, inv["customer"], "payment_method")
    sub = st.find("subscription", inv["subscription"])
    cus = st.get("customer", inv["customer"])
    return (inv["default_payment_method"] or (sub or {}).get("default_payment_method")
            or cus["invoice_settings"]["default_payment_method"])


def attempt_payment(st: State, inv: dict[str, Any], requested: str | None = None,
                    *, automatic: bool = False) -> StripeError | None:
    """Charge the invoice's remaining amount; returns the card error if declined."""
    pm = payment_method_for(st, inv, requested)
    if pm is None:
        if automatic:
            inv["next_payment_attempt"] = None
            return None
        raise invalid(NO_PAYMENT_METHOD, code="resource_missing")
    meta = st.private(inv["id"])
    pi = st.find("payment_intent", meta.get("payment_intent"))
    if pi is None or pi["status"] != "requires_payment_method" or pi["amount"] != inv[
            "amount_remaining"]:
        description = {"subscription_create": "Subscription creation",
                       "subscription_cycle": "Subscription update"}.get(inv["billing_reason"])
        pi = new_payment_intent(st, amount=inv["amount_remaining"], currency=inv["currency"],
                                customer=inv["customer"], description=description)
        meta["payment_intent"] = pi["id"]
        st.add(build("invoice_payment", id=new_id("invoice_payment"), created=st.now,
                     amount_paid=None, amount_requested=pi["amount"], currency=inv["currency"],
                     invoice=inv["id"], is_default=True, status="open", livemode=False,
                     payment={"type": "payment_intent", "payment_intent": pi["id"]}))
    pi["payment_method_types"] = [st.get("payment_method", pm)["type"]]
    error = confirm(st, pi, pm)
    inv.update(attempted=True, attempt_count=inv["attempt_count"] + 1)
    if pi["status"] == "processing":  # a bank debit: the invoice is paid when it settles
        inv["next_payment_attempt"] = None
        return None
    if error:
        more = inv["collection_method"] == "charge_automatically" and inv["attempt_count"] < (
            MAX_ATTEMPTS) and inv["auto_advance"]
        inv["next_payment_attempt"] = st.now + RETRY_AFTER if more else None
        st.emit("invoice.payment_failed", inv)
        _sync_subscription(st, inv, "failed")
        return error
    _paid_by(st, inv, pi)
    return None


def _paid_by(st: State, inv: dict[str, Any], pi: dict[str, Any]) -> None:
    for row in st.all("invoice_payment"):
        if row["payment"].get("payment_intent") == pi["id"]:
            row.update(status="paid", amount_paid=pi["amount"])
            row["status_transitions"]["paid_at"] = st.now
            st.emit("invoice_payment.paid", row)
    mark_paid(st, inv, amount=pi["amount"])


def after_bank_debit(st: State, pi: dict[str, Any]) -> None:
    """A processing bank debit settled: its invoice is paid, or its payment failed."""
    inv = next((i for i in st.all("invoice") if st.private(i["id"]).get("payment_intent")
                == pi["id"] and i["status"] == "open"), None)
    if inv is None:
        return
    if pi["status"] == "succeeded":
        _paid_by(st, inv, pi)
    else:
        st.emit("invoice.payment_failed", inv)
        _sync_subscription(st, inv, "failed")


def pay(st: State, inv: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    if inv["status"] == "paid":
        raise invalid("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] == "void":
        raise invalid("Voided invoices cannot be paid.")
    if inv["status"] == "draft":
        finalize(st, inv)
        if inv["status"] == "paid":
            return inv
    if p.get("paid_out_of_band"):
        mark_paid(st, inv, amount=inv["amount_remaining"])
        return inv
    if p.get("forgive") and inv["amount_remaining"]:
        raise invalid("Forgiving the remainder of an invoice is not emulated.", param="forgive")
    error = attempt_payment(st, inv, p.get("payment_method"))
    if error:
        raise error
    return inv


def void(st: State, inv: dict[str, Any]) -> dict[str, Any]:
    if inv["status"] not in ("open", "uncollectible"):
        raise invalid(f"You can only void invoices that are open or uncollectible. This invoice "
                      f"is {inv['status']}.")
    inv.update(status="void", next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["voided_at"] = st.now
    st.emit("invoice.voided", inv)
    return inv


def mark_uncollectible(st: State, inv: dict[str, Any]) -> dict[str, Any]:
    if inv["status"] != "open":
        raise invalid(f"You can only mark open invoices as uncollectible. This invoice is "
                      f"{inv['status']}.")
    inv.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["marked_uncollectible_at"] = st.now
    st.emit("invoice.marked_uncollectible", inv)
    return inv


def send(st: State, inv: dict[str, Any]) -> dict[str, Any]:
    if inv["collection_method"] != "send_invoice":
        raise invalid("You can only manually send an invoice if its collection method is "
                      "'send_invoice'.")
    if inv["status"] == "draft":
        finalize(st, inv)
    if inv["status"] != "open":
        raise invalid(f"You can only send an open invoice. This invoice is {inv['status']}.")
    st.emit("invoice.sent", inv)
    return inv


def overdue(st: State, inv: dict[str, Any]) -> None:
    st.private(inv["id"])["overdue_sent"] = True
    st.emit("invoice.overdue", snapshot(inv))
    _sync_subscription(st, inv, "overdue")


def _sync_subscription(st: State, inv: dict[str, Any], outcome: str) -> None:
    """Subscription status follows its invoices: the first invoice's payment decides between
    `incomplete` and `active`; a later failed or overdue invoice makes it `past_due`."""
    sub = st.find("subscription", inv["subscription"])
    if sub is None or sub["status"] in ("canceled", "incomplete_expired"):
        return
    before = snapshot(sub)
    if outcome == "paid":
        outstanding = [
            i for i in st.all("invoice")
            if i["subscription"] == sub["id"] and i["status"] == "open" and i["id"] != inv["id"]
        ]
        if not outstanding:
            sub["status"] = "active"
    elif outcome == "overdue" or inv["billing_reason"] != "subscription_create":
        sub["status"] = "past_due"
    if sub["status"] != before["status"]:
        st.emit("customer.subscription.updated", sub, {"status": before["status"]})
