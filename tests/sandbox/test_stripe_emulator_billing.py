"""Billing through the Stripe emulator: subscriptions, renewals, invoices, declines, credits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox.test_stripe_emulator import START, monthly_price, paying_customer

DAY = 86_400


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(start_time=START) as emulator:
        yield emulator
        assert not emulator.failures, emulator.failures[0]


@pytest.fixture
def client(emu: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})


@pytest.mark.parametrize(("interval", "count", "amount", "period_end"), [
    ("month", 1, 2000, 1_769_904_000),   # 2026-02-01
    ("month", 3, 15000, 1_775_001_600),  # 2026-04-01
    ("year", 1, 120000, 1_798_761_600),  # 2027-01-01
])
def test_first_invoice_is_finalized_and_paid(client: stripe.StripeClient, interval: str,
                                             count: int, amount: int, period_end: int) -> None:
    cus = paying_customer(client)
    prod = client.v1.products.create(params={"name": "Platform"})
    setup = client.v1.prices.create(params={"product": prod.id, "currency": "usd",
                                            "unit_amount": 50000})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "metadata": {"deal": "006A"},
        "items": [{"price_data": {"currency": "usd", "product": prod.id, "unit_amount": amount,
                                  "recurring": {"interval": interval, "interval_count": count}},
                   "quantity": 4}],
        "add_invoice_items": [{"price": setup.id}],
        "expand": ["latest_invoice"],
    })
    inv = sub.latest_invoice
    assert sub.status == "active"
    assert sub["items"].data[0].current_period_end == period_end
    assert inv.billing_reason == "subscription_create" and inv.status == "paid"
    assert re.fullmatch(rf"{cus.invoice_prefix}-0001", inv.number)
    assert (inv.subtotal, inv.total, inv.amount_due, inv.amount_paid, inv.amount_remaining) == (
        4 * amount + 50000, 4 * amount + 50000, 4 * amount + 50000, 4 * amount + 50000, 0)
    assert [(ln.amount, ln.quantity) for ln in inv.lines.data] == [(4 * amount, 4), (50000, 1)]
    assert inv.parent.subscription_details.subscription == sub.id
    assert inv.parent.subscription_details.metadata.deal == "006A"
    assert inv.status_transitions.finalized_at == START and inv.hosted_invoice_url
    found = client.v1.subscriptions.search(params={"query": "metadata['deal']:'006A'"})
    assert [s.id for s in found.data] == [sub.id]
    assert client.v1.invoices.search(params={"query": f"subscription:'{sub.id}'"}).data[0].id == (
        inv.id)


def test_renewals_follow_the_clock_until_cancel_at(emu: StripeEmulator,
                                                   client: stripe.StripeClient) -> None:
    cus = paying_customer(client)
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client), "quantity": 2}],
        "cancel_at": START + 80 * DAY})
    emu.advance(days=31)
    draft = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert (draft.status, draft.billing_reason, draft.number) == ("draft", "subscription_cycle",
                                                                 None)
    assert draft.automatically_finalizes_at == draft.created + 3600
    emu.advance(seconds=3600)
    paid = client.v1.invoices.retrieve(draft.id)
    assert paid.status == "paid" and paid.number.endswith("-0002") and paid.amount_paid == 4000
    emu.advance(days=120)
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.billing_reason for i in invoices] == ["subscription_cycle"] * 2 + [
        "subscription_create"]
    assert invoices[0].lines.data[0].period.end == START + 80 * DAY
    assert invoices[0].total == round(4000 * 21 / 31)  # last period cut at cancel_at, prorated
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == START + 80 * DAY
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "customer.subscription.deleted" in types and "invoice.paid" in types


def test_send_invoice_due_date_and_overdue(emu: StripeEmulator,
                                           client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "ap@acme.test"})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client)}],
        "collection_method": "send_invoice", "days_until_due": 30})
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.status == "open" and inv.due_date == START + 30 * DAY and inv.attempt_count == 0
    emu.advance(days=30, seconds=5)
    assert client.v1.events.list(params={"type": "invoice.overdue"}).data[0].data.object.id == (
        inv.id)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    client.v1.invoices.pay(inv.id, params={"paid_out_of_band": True})
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_invoice_state_machine(client: stripe.StripeClient) -> None:
    cus = paying_customer(client)
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 2500,
                                           "currency": "usd", "description": "Consulting"})
    draft = client.v1.invoices.create(params={"customer": cus.id,
                                              "pending_invoice_items_behavior": "include"})
    assert (draft.status, draft.total, draft.number) == ("draft", 2500, None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(draft.id)
    opened = client.v1.invoices.finalize_invoice(draft.id)
    assert opened.status == "open" and opened.number.endswith("-0001")
    with pytest.raises(stripe.InvalidRequestError, match="already finalized"):
        client.v1.invoices.finalize_invoice(draft.id)
    with pytest.raises(stripe.InvalidRequestError, match="send_invoice"):
        client.v1.invoices.send_invoice(draft.id)
    paid = client.v1.invoices.pay(draft.id)
    assert paid.status == "paid" and paid.amount_paid == 2500
    for action in (client.v1.invoices.void_invoice, client.v1.invoices.mark_uncollectible,
                   client.v1.invoices.pay):
        with pytest.raises(stripe.InvalidRequestError):
            action(draft.id)
    other = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 900, "currency": "usd",
                                           "invoice": other.id})
    client.v1.invoices.finalize_invoice(other.id)
    bad = client.v1.invoices.mark_uncollectible(other.id)
    assert bad.status == "uncollectible" and bad.status_transitions.marked_uncollectible_at
    assert client.v1.invoices.void_invoice(other.id).status == "void"
    with pytest.raises(stripe.InvalidRequestError, match="cannot be paid"):
        client.v1.invoices.pay(other.id)


def test_declined_card_keeps_invoice_open(emu: StripeEmulator,
                                          client: stripe.StripeClient) -> None:
    cus = paying_customer(client, "pm_card_chargeDeclined")
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client)}],
        "expand": ["latest_invoice.payments.data.payment.payment_intent"]})
    inv = sub.latest_invoice
    assert sub.status == "incomplete"
    assert (inv.status, inv.attempt_count, inv.amount_remaining) == ("open", 1, 2000)
    intent = inv.payments.data[0].payment.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "generic_decline"
    with pytest.raises(stripe.CardError) as declined:
        client.v1.invoices.pay(inv.id)
    assert declined.value.http_status == 402
    assert client.v1.invoices.retrieve(inv.id).attempt_count == 2
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert types.count("invoice.payment_failed") == 2 and "charge.failed" in types
    good = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cus.id})
    assert client.v1.invoices.pay(inv.id, params={"payment_method": good.id}).status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert len(client.v1.payment_intents.list().data) == 1  # retries reuse the intent


def test_credit_notes_on_open_and_paid_invoices(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "ap@acme.test"})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client, 10000)}],
        "collection_method": "send_invoice", "days_until_due": 15})
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    cn = client.v1.credit_notes.create(params={
        "invoice": inv.id, "lines": [{"type": "invoice_line_item",
                                      "invoice_line_item": inv.lines.data[0].id,
                                      "amount": 3000}], "reason": "order_change"})
    assert (cn.amount, cn.pre_payment_amount, cn.type) == (3000, 3000, "pre_payment")
    assert cn.number == f"{inv.number}-CN-01"
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.amount_remaining, inv.pre_payment_credit_notes_amount) == (7000, 3000)
    client.v1.credit_notes.void_credit_note(cn.id)
    assert client.v1.invoices.retrieve(inv.id).amount_remaining == 10000
    client.v1.invoices.pay(inv.id, params={"paid_out_of_band": True})
    with pytest.raises(stripe.InvalidRequestError, match="must equal"):
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 2000})
    post = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 2000,
                                                 "credit_amount": 2000, "memo": "goodwill"})
    assert post.type == "post_payment" and post.customer_balance_transaction
    assert client.v1.customers.retrieve(cus.id).balance == -2000
    assert client.v1.invoices.retrieve(inv.id).post_payment_credit_notes_amount == 2000
    assert [c.id for c in client.v1.credit_notes.list(params={"invoice": inv.id}).data] == [
        post.id, cn.id]
    # the credit is applied to the customer's next invoice at finalization
    nxt = client.v1.invoices.create(params={"customer": cus.id, "days_until_due": 10,
                                            "collection_method": "send_invoice"})
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 5000, "currency": "usd",
                                           "invoice": nxt.id})
    nxt = client.v1.invoices.finalize_invoice(nxt.id)
    assert (nxt.total, nxt.amount_due, nxt.starting_balance, nxt.ending_balance) == (
        5000, 3000, -2000, 0)
    assert client.v1.customers.retrieve(cus.id).balance == 0


def test_quantity_change_creates_prorations(emu: StripeEmulator,
                                            client: stripe.StripeClient) -> None:
    cus = paying_customer(client)
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client, 3100)}]})
    emu.advance(days=10)
    item = sub["items"].data[0]
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "quantity": 2}]})
    pending = client.v1.invoice_items.list(params={"customer": cus.id}).data
    assert sorted(ii.amount for ii in pending) == [-2100, 4200]
    emu.advance(days=22)
    renewal = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert renewal.total == 6200 + 2100 and renewal.status == "paid"


def test_tax_rates_tax_lines_and_invoices(emu: StripeEmulator,
                                          client: stripe.StripeClient) -> None:
    """An item's own rate wins over the defaults; exclusive tax adds to the total, inclusive
    tax sits inside the line; `total_taxes` adds the lines' `taxes` up per rate."""
    nyc = client.v1.tax_rates.create(params={
        "display_name": "Sales tax", "percentage": 8.875, "inclusive": False,
        "jurisdiction": "US - NY", "state": "NY", "country": "US", "tax_type": "sales_tax"})
    vat = client.v1.tax_rates.create(params={"display_name": "VAT", "percentage": 20,
                                             "inclusive": True})
    assert (nyc.object, nyc.percentage, nyc.inclusive, nyc.active) == ("tax_rate", 8.875,
                                                                      False, True)
    assert client.v1.tax_rates.retrieve(nyc.id).display_name == "Sales tax"
    assert [t.id for t in client.v1.tax_rates.list(params={"inclusive": True}).data] == [vat.id]
    cus = client.v1.customers.create(params={"email": "ap@acme.test"})
    prod = client.v1.products.create(params={"name": "Platform"})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "collection_method": "send_invoice", "days_until_due": 30,
        "items": [{"price_data": {"currency": "usd", "product": prod.id,
                                  "unit_amount": 10_000_000, "recurring": {"interval": "year"}},
                   "tax_rates": [nyc.id]}],
        "add_invoice_items": [{"price_data": {"currency": "usd", "product": prod.id,
                                              "unit_amount": 2_000_000}}],
        "expand": ["latest_invoice"],
    })
    inv = sub.latest_invoice
    assert (inv.subtotal, inv.total, inv.total_excluding_tax, inv.amount_due) == (
        12_000_000, 12_887_500, 12_000_000, 12_887_500)
    sub_line, fee_line = inv.lines.data
    assert [(t.amount, t.taxable_amount, t.tax_behavior, t.tax_rate_details.tax_rate, t.type)
            for t in sub_line.taxes] == [(887_500, 10_000_000, "exclusive", nyc.id,
                                          "tax_rate_details")]
    assert fee_line.taxes == []
    assert [(t.amount, t.tax_rate_details.tax_rate) for t in inv.total_taxes] == [
        (887_500, nyc.id)]
    assert sub["items"].data[0].tax_rates[0].id == nyc.id

    # A draft's defaults apply to the lines without rates of their own; inclusive stays inside.
    draft = client.v1.invoices.create(params={
        "customer": cus.id, "collection_method": "send_invoice", "days_until_due": 30,
        "default_tax_rates": [vat.id]})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": draft.id,
                                           "amount": 12_000, "currency": "usd"})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": draft.id,
                                           "amount": 1_000, "currency": "usd",
                                           "tax_rates": [nyc.id]})
    draft = client.v1.invoices.retrieve(draft.id)
    assert (draft.subtotal, draft.total, draft.total_excluding_tax) == (13_000, 13_089, 11_000)
    assert sorted((t.amount, t.tax_behavior) for t in draft.total_taxes) == [
        (89, "exclusive"), (2_000, "inclusive")]
    draft = client.v1.invoices.update(draft.id, params={"default_tax_rates": ""})
    assert (draft.total, draft.total_excluding_tax) == (13_089, 13_000)
    with pytest.raises(stripe.InvalidRequestError, match="No such tax rate: 'txr_nope'"):
        client.v1.invoices.update(draft.id, params={"default_tax_rates": ["txr_nope"]})

    # A subscription's default rates reach its next invoice (the item's own rate still wins).
    monthly = client.v1.subscriptions.create(params={
        "customer": cus.id, "collection_method": "send_invoice", "days_until_due": 30,
        "items": [{"price": monthly_price(client, 10_000)}]})
    client.v1.subscriptions.update(monthly.id, params={"default_tax_rates": [nyc.id]})
    emu.advance(days=31, seconds=3_600)
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(
        monthly.id).latest_invoice)
    assert (renewal.billing_reason, renewal.status) == ("subscription_cycle", "open")
    assert [r.id for r in renewal.default_tax_rates] == [nyc.id]
    assert (renewal.subtotal, renewal.total) == (10_000, 10_888)


def test_always_invoice_prorates_from_the_proration_date(emu: StripeEmulator,
                                                          client: stripe.StripeClient) -> None:
    """`proration_date` prorates "as though the subscription was updated at the given time":
    10 days into a 31-day month (though the clock is 12 hours later), 21/31 of 3,100 back at
    the old quantity and 21/31 of 6,200 at the new one, invoiced at once."""
    cus = paying_customer(client)
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client, 3100)}]})
    item = sub["items"].data[0]
    at = item.current_period_start + 10 * 86_400
    emu.advance(days=10, seconds=12 * 3_600)
    client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "quantity": 2}], "proration_behavior": "always_invoice",
        "proration_date": at})
    (update,) = [i for i in client.v1.invoices.list(params={"subscription": sub.id}).data
                 if i.billing_reason == "subscription_update"]
    assert sorted(line.amount for line in update.lines.data) == [-2100, 4200]
    assert {line.period.start for line in update.lines.data} == {at}
    assert update.total == 2100
    with pytest.raises(stripe.InvalidRequestError, match="proration_date"):
        client.v1.subscriptions.update(sub.id, params={
            "items": [{"id": item.id, "quantity": 3}], "proration_behavior": "always_invoice",
            "proration_date": item.current_period_start - 1})
