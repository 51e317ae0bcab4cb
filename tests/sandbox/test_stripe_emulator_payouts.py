"""The Stripe emulator's balance and payouts through stripe-python: balance transactions, the
daily automatic payout sweep on the sandbox clock, payout failure, and refunds that wait for funds.

Worked example (card fees 2.9% + 30¢, rounded half up), charges on Jan 1 01:00 UTC:
    $1,000.00  fee 29.00 + 0.30 = 29.30   net  970.70
    $  250.00  fee  7.25 + 0.30 =  7.55   net  242.45
    $   49.99  fee  1.45 + 0.30 =  1.75   net   48.24
                                  total   net 1,261.39
Funds are available Jan 3 01:00; the Jan 4 00:00 sweep pays out $1,261.39, which arrives Jan 5.
"""

from __future__ import annotations

import httpx
import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox.cash_helpers import (
    DAY,
    HOUR,
    START,
    balance,
    charge,
    client,
    emu,
    event_types,
    trigger,
)

__all__ = ["client", "emu"]
JAN = {d: START + (d - 1) * DAY for d in range(1, 32)}  # midnight UTC of each January day


def test_charges_sweep_into_one_daily_payout_that_nets_to_zero(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    charges = [charge(client, amount) for amount in (100_000, 25_000, 4_999)]
    assert [(c.balance_transaction.fee, c.balance_transaction.net) for c in charges] == [
        (2_930, 97_070), (755, 24_245), (175, 4_824)]
    txn = charges[0].balance_transaction
    assert (txn.type, txn.reporting_category, txn.status, txn.source) == (
        "charge", "charge", "pending", charges[0].id)
    assert txn.fee_details[0].type == "stripe_fee" and txn.available_on == JAN[3] + HOUR
    assert balance(client) == (0, 126_139)

    emu.advance(seconds=JAN[3] + 12 * HOUR - emu.now)
    assert balance(client) == (126_139, 0)
    assert client.v1.payouts.list().data == []  # the Jan 3 sweep ran before the funds arrived

    emu.advance(seconds=JAN[4] + 1 - emu.now)
    (po,) = client.v1.payouts.list().data
    assert (po.amount, po.status, po.automatic, po.arrival_date) == (126_139, "in_transit",
                                                                       True, JAN[5])
    assert po.created == JAN[4] and po.trace_id.status == "supported"
    assert len(po.trace_id.value) == 15 and po.trace_id.value.isdigit()
    assert balance(client) == (0, 0)
    carried = client.v1.balance_transactions.list(params={"payout": po.id, "limit": 100}).data
    assert sorted(t.type for t in carried) == ["charge", "charge", "charge", "payout"]
    assert sum(t.net for t in carried) == 0
    own = client.v1.balance_transactions.retrieve(po.balance_transaction)
    assert (own.type, own.reporting_category, own.amount, own.net, own.source) == (
        "payout", "payout", -126_139, -126_139, po.id)

    emu.advance(seconds=JAN[5] + 1 - emu.now)
    po = client.v1.payouts.retrieve(po.id)
    assert (po.status, po.reconciliation_status) == ("paid", "completed")
    assert event_types(client, "payout.") == [
        "payout.created", "payout.paid", "payout.reconciliation_completed"]
    assert client.v1.payouts.list(params={"status": "paid"}).data[0].id == po.id
    assert client.v1.payouts.list(params={"arrival_date": {"gte": JAN[6]}}).data == []


def test_balance_transaction_filters_and_pages(emu: StripeEmulator,
                                               client: stripe.StripeClient) -> None:
    made = [charge(client, 1_000 + n).balance_transaction.id for n in range(5)]
    emu.advance(seconds=HOUR)
    later = charge(client, 2_000).balance_transaction.id
    page = client.v1.balance_transactions.list(params={"limit": 2, "type": "charge"})
    assert [t.id for t in page.data] == [later, made[4]] and page.has_more
    rest = client.v1.balance_transactions.list(params={
        "limit": 100, "starting_after": page.data[-1].id})
    assert [t.id for t in rest.data] == made[3::-1] and not rest.has_more
    recent = client.v1.balance_transactions.list(params={"created": {"gt": START + HOUR}})
    assert [t.id for t in recent.data] == [later]
    assert client.v1.balance_transactions.list(params={"type": "refund"}).data == []
    missing = httpx.get(f"{emu.url}/v1/balance_transactions?payout=po_nope",
                        headers={"Authorization": f"Bearer {emu.api_key}"})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "payout"


def test_a_failed_payout_returns_its_funds_to_the_next_payout(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    charge(client, 10_000)  # fee 3.20, net 96.80
    emu.advance(seconds=JAN[4] + 1 - emu.now)
    (po,) = client.v1.payouts.list().data
    failed = trigger(emu, f"/sandbox/payouts/{po.id}/fail", failure_code="account_closed")
    assert (failed["status"], failed["failure_code"]) == ("failed", "account_closed")
    back = client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (back.type, back.reporting_category, back.amount) == (
        "payout_failure", "payout_reversal", 9_680)
    assert balance(client) == (9_680, 0)

    emu.advance(seconds=JAN[5] + 1 - emu.now)
    second = client.v1.payouts.list(params={"status": "in_transit"}).data[0]
    assert second.amount == 9_680 and second.id != po.id
    carried = client.v1.balance_transactions.list(params={"payout": second.id}).data
    assert sorted(t.type for t in carried) == ["payout", "payout_failure"]
    assert client.v1.payouts.retrieve(po.id).status == "failed"  # never becomes paid
    assert event_types(client, "payout.") == ["payout.created", "payout.failed",
                                              "payout.created"]
    with pytest.raises(stripe.InvalidRequestError, match="automatic payouts are enabled"):
        client.v1.payouts.create(params={"amount": 100, "currency": "usd"})


def test_refunds_before_and_after_the_payout_and_one_that_waits(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    """$100.00 charge (fee 3.20, net 96.80) on Jan 1, refunded $30.00 at once: the balance has
    nothing available, so the refund waits until Jan 3 01:00, then available = 96.80 - 30.00
    = 66.80, paid out Jan 4. A $20.00 refund on Jan 5 waits again; a $50.00 charge on Jan 5
    (fee 1.75, net 48.25) becomes available Jan 7 01:00, the refund then leaves, and the Jan 8
    payout is 48.25 - 20.00 = 28.25: the later refund reduced the later payout."""
    ch = charge(client, 10_000)
    first = client.v1.refunds.create(params={"charge": ch.id, "amount": 3_000},
                                     options={"idempotency_key": "refund-1"})
    again = client.v1.refunds.create(params={"charge": ch.id, "amount": 3_000},
                                     options={"idempotency_key": "refund-1"})
    assert again.id == first.id and len(client.v1.refunds.list().data) == 1
    assert (first.status, first.balance_transaction) == ("pending", None)
    after = client.v1.charges.retrieve(ch.id)
    assert (after.amount_refunded, after.refunded) == (3_000, False)

    emu.advance(seconds=JAN[3] + 2 * HOUR - emu.now)
    first = client.v1.refunds.retrieve(first.id, params={"expand": ["balance_transaction"]})
    assert first.status == "succeeded"
    assert (first.balance_transaction.type, first.balance_transaction.net) == ("refund", -3_000)
    assert balance(client) == (6_680, 0)
    emu.advance(seconds=JAN[5] - emu.now)
    assert [p.amount for p in client.v1.payouts.list().data] == [6_680]

    emu.advance(seconds=HOUR)
    second = client.v1.refunds.create(params={"charge": ch.id, "amount": 2_000})
    assert second.status == "pending"
    charge(client, 5_000)
    emu.advance(seconds=JAN[8] + 1 - emu.now)
    assert client.v1.refunds.retrieve(second.id).status == "succeeded"
    assert [p.amount for p in client.v1.payouts.list().data] == [2_825, 6_680]
    assert balance(client) == (0, 0)
    assert event_types(client, "refund.") == [
        "refund.created", "refund.updated", "refund.created", "refund.updated"]
    assert event_types(client, "charge.refunded") == ["charge.refunded"] * 2

    with pytest.raises(stripe.InvalidRequestError) as over:
        client.v1.refunds.create(params={"charge": ch.id, "amount": 5_001})
    assert "greater than unrefunded amount" in str(over.value)
    full = client.v1.refunds.create(params={"charge": ch.id})
    assert full.amount == 5_000 and client.v1.charges.retrieve(ch.id).refunded is True


def test_a_refund_that_fails_after_it_succeeded(emu: StripeEmulator,
                                                client: stripe.StripeClient) -> None:
    ch = charge(client, 10_000, card="pm_card_refundFail")
    emu.advance(seconds=3 * DAY)  # funds available, paid out Jan 4 00:00
    refund = client.v1.refunds.create(params={"charge": ch.id, "amount": 4_000})
    assert refund.status == "pending"  # the payout emptied the balance
    manual = client.v1.refunds.create(params={"charge": charge(client, 20_000).id,
                                              "amount": 100})
    emu.advance(seconds=JAN[6] + 2 * HOUR - emu.now)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    emu.advance(seconds=DAY)
    refund = client.v1.refunds.retrieve(refund.id)
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    back = client.v1.balance_transactions.retrieve(refund.failure_balance_transaction)
    assert (back.type, back.reporting_category, back.amount) == (
        "adjustment", "refund_failure", 4_000)
    assert client.v1.charges.retrieve(ch.id).amount_refunded == 0
    assert "refund.failed" in event_types(client, "refund.")
    failed = trigger(emu, f"/sandbox/refunds/{manual.id}/fail")
    assert failed["status"] == "failed"


def test_the_sandbox_clock_pays_out_each_currency_on_its_own(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    """€500.00 (fee 14.80, net 485.20) and $80.00 (fee 2.62, net 77.38): two payouts on Jan 4."""
    for amount, currency in ((50_000, "eur"), (8_000, "usd")):
        client.v1.payment_intents.create(params={
            "amount": amount, "currency": currency, "payment_method": "pm_card_visa",
            "confirm": True})
    moved = httpx.post(f"{emu.url}/sandbox/clock", data={"frozen_time": str(JAN[4] + 1)},
                       headers={"Authorization": f"Bearer {emu.api_key}"})
    assert moved.status_code == 200
    payouts = client.v1.payouts.list().data
    assert sorted((p.currency, p.amount) for p in payouts) == [("eur", 48_520), ("usd", 7_738)]
    for po in payouts:
        carried = client.v1.balance_transactions.list(params={"payout": po.id}).data
        assert {t.currency for t in carried} == {po.currency}
        assert sum(t.net for t in carried) == 0
    eur = client.v1.balance_transactions.list(params={"currency": "eur", "type": "charge"})
    assert [t.net for t in eur.data] == [48_520]
    bal = client.v1.balance.retrieve()
    assert sorted((f.currency, f.amount) for f in bal.available) == [("eur", 0), ("usd", 0)]


def test_a_manual_schedule_pays_out_only_on_request() -> None:
    """$100.00 (net 96.80) available Jan 3; no sweep; a manual $50.00 payout leaves 46.80."""
    with StripeEmulator(start_time=START + HOUR, payout_schedule="manual") as emu:
        client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
        with pytest.raises(stripe.InvalidRequestError) as short:
            client.v1.payouts.create(params={"amount": 5_000, "currency": "usd"})
        assert short.value.code == "balance_insufficient"
        charge(client, 10_000)
        emu.advance(seconds=JAN[5] - emu.now)
        assert client.v1.payouts.list().data == [] and balance(client) == (9_680, 0)
        po = client.v1.payouts.create(params={"amount": 5_000, "currency": "usd",
                                              "description": "Rent"})
        assert (po.automatic, po.status, po.arrival_date) == (False, "in_transit", JAN[6])
        assert balance(client) == (4_680, 0)
        own = client.v1.balance_transactions.list(params={"payout": po.id}).data
        assert [t.id for t in own] == [po.balance_transaction]
        emu.advance(seconds=DAY)
        assert client.v1.payouts.retrieve(po.id).status == "paid"
        assert not emu.failures
