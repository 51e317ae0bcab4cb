"""The Stripe emulator's disputes and ACH debits through stripe-python.

Worked example, dispute (card fee 2.9% + 30¢, dispute fee $15.00), charge on Jan 1 01:00 UTC:
    $200.00 charge           fee 6.10          net  193.90   pending until Jan 3 01:00
    dispute opened           amount -200.00, fee 15.00, net -215.00   available at once
    won: reinstated          amount +200.00, fee -15.00, net +215.00
Balance after the win: available 0.00, pending 193.90; the Jan 4 payout is $193.90 and its
transactions (charge, dispute, reversal, payout) net to zero. Lost instead: available
193.90 - 215.00 = -21.10 and no payout is made.

Worked example, ACH (0.8%, capped at $5.00), confirmed Jan 1 01:00, settles Jan 5 01:00:
    $10,000.00   fee 80.00 capped at 5.00   net 9,995.00
    $   100.00   fee 0.80                    net    99.20
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox import cash_helpers as cash
from tests.sandbox.cash_helpers import client, emu

__all__ = ["client", "emu"]
FIXTURES = Path(__file__).resolve().parents[2] / "sandbox" / "stripe" / "fixtures.json"


def test_a_dispute_won_takes_and_gives_back_the_amount_and_fee(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    ch = cash.charge(client, 20_000)
    dp = cash.trigger(emu, f"/sandbox/charges/{ch.id}/dispute", reason="product_not_received")
    assert (dp["status"], dp["amount"], dp["reason"]) == ("needs_response", 20_000,
                                                          "product_not_received")
    (withdrawal,) = dp["balance_transactions"]
    assert (withdrawal["type"], withdrawal["reporting_category"], withdrawal["amount"],
            withdrawal["fee"], withdrawal["net"]) == ("adjustment", "dispute", -20_000, 1_500,
                                                      -21_500)
    assert withdrawal["fee_details"][0]["description"] == "Dispute fee"
    assert cash.balance(client) == (-21_500, 19_390)
    assert client.v1.charges.retrieve(ch.id).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"charge": ch.id})
    assert refused.value.code == "charge_disputed"

    updated = client.v1.disputes.update(dp["id"], params={
        "evidence": {"uncategorized_text": "Delivered on Dec 30."}, "submit": True})
    assert updated.status == "under_review" and updated.evidence_details.has_evidence
    won = cash.trigger(emu, f"/sandbox/disputes/{dp['id']}/decide", outcome="won")
    reversal = won["balance_transactions"][1]
    assert (won["status"], reversal["reporting_category"], reversal["net"]) == (
        "won", "dispute_reversal", 21_500)
    assert cash.balance(client) == (0, 19_390)

    emu.advance(seconds=cash.START + 3 * cash.DAY + 1 - emu.now)
    (po,) = client.v1.payouts.list().data
    carried = client.v1.balance_transactions.list(params={"payout": po.id}).data
    assert po.amount == 19_390 and sum(t.net for t in carried) == 0
    assert sorted(t.reporting_category for t in carried) == [
        "charge", "dispute", "dispute_reversal", "payout"]
    assert cash.event_types(client, "charge.dispute.") == [
        "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.updated",
        "charge.dispute.funds_reinstated", "charge.dispute.closed"]
    assert client.v1.disputes.list(params={"charge": ch.id}).data[0].status == "won"


def test_a_dispute_accepted_is_lost_and_leaves_a_negative_balance(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    ch = cash.charge(client, 20_000, card="pm_card_createDispute")
    (dp,) = client.v1.disputes.list().data
    assert (dp.charge, dp.reason, dp.status) == (ch.id, "fraudulent", "needs_response")
    lost = client.v1.disputes.close(dp.id)
    assert lost.status == "lost" and len(lost.balance_transactions) == 1
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dp.id)
    emu.advance(seconds=5 * cash.DAY)
    assert cash.balance(client) == (-2_110, 0)
    assert client.v1.payouts.list().data == []  # nothing positive to pay out
    assert cash.event_types(client, "charge.dispute.") == [
        "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed"]


def _bank_account(client: stripe.StripeClient, account_number: str) -> Any:
    return client.v1.payment_methods.create(params={
        "type": "us_bank_account", "billing_details": {"name": "Acme Corp AP"},
        "us_bank_account": {"routing_number": "110000000", "account_number": account_number,
                            "account_holder_type": "company"}})


def _debit(client: stripe.StripeClient, pm: str, amount: int, **extra: Any) -> Any:
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": pm, "confirm": True,
        "payment_method_types": ["us_bank_account"],
        "mandate_data": {"customer_acceptance": {"type": "offline"}}, **extra})


def test_an_ach_debit_is_processing_for_days_then_settles_net_of_its_capped_fee(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    pm = _bank_account(client, "000123456789")
    assert (pm.type, pm.us_bank_account.last4) == ("us_bank_account", "6789")
    big, small = _debit(client, pm.id, 1_000_000), _debit(client, pm.id, 10_000)
    ch = client.v1.charges.retrieve(big.latest_charge)
    assert (big.status, ch.status, ch.paid, ch.balance_transaction) == (
        "processing", "pending", False, None)
    assert ch.payment_method_details.type == "us_bank_account"
    assert cash.balance(client) == (0, 0)  # paid, in a sense; no cash yet
    with pytest.raises(stripe.InvalidRequestError) as early:
        client.v1.refunds.create(params={"charge": ch.id})
    assert early.value.code == "charge_not_refundable"
    emu.advance(seconds=4 * cash.DAY - 1)
    assert client.v1.payment_intents.retrieve(big.id).status == "processing"
    emu.advance(seconds=1)
    fees = []
    for pi in (big, small):
        settled = client.v1.payment_intents.retrieve(pi.id, params={
            "expand": ["latest_charge.balance_transaction"]})
        assert settled.status == "succeeded" and settled.latest_charge.paid
        txn = settled.latest_charge.balance_transaction
        fees.append((txn.fee, txn.net, txn.available_on - txn.created))
    assert fees == [(500, 999_500, 2 * cash.DAY), (80, 9_920, 2 * cash.DAY)]
    assert cash.balance(client) == (0, 1_009_420)
    assert cash.event_types(client, "charge.") == ["charge.pending"] * 2 + ["charge.succeeded"] * 2


def test_an_ach_debit_from_payment_method_data_refuses_a_card_only_intent(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 7_500, "currency": "usd", "confirm": True,
        "payment_method_types": ["us_bank_account"],
        "payment_method_data": {"type": "us_bank_account",
                                "billing_details": {"name": "Globex AP"},
                                "us_bank_account": {"routing_number": "110000000",
                                                    "account_number": "000222222227"}}})
    assert pi.status == "processing"
    emu.advance(seconds=4 * cash.DAY)
    assert client.v1.payment_intents.retrieve(pi.id).last_payment_error.code == (
        "insufficient_funds")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params={
            "amount": 7_500, "currency": "usd", "confirm": True,
            "payment_method": _bank_account(client, "000123456789").id})
    assert refused.value.code == "payment_intent_incompatible_payment_method"


def test_an_ach_debit_fails_after_processing_and_its_invoice_stays_open(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    closed = _bank_account(client, "000111111113")
    pi = _debit(client, closed.id, 50_000)
    assert pi.status == "processing"
    emu.advance(seconds=4 * cash.DAY)
    pi = client.v1.payment_intents.retrieve(pi.id)
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (pi.status, pi.last_payment_error.code) == ("requires_payment_method",
                                                       "account_closed")
    assert (ch.status, ch.failure_code, ch.balance_transaction) == (
        "failed", "account_closed", None)

    cus = client.v1.customers.create(params={"email": "ap@acme.test"})
    good = client.v1.payment_methods.attach(_bank_account(client, "000123456789").id,
                                            params={"customer": cus.id})
    inv = client.v1.invoices.create(params={"customer": cus.id, "auto_advance": False,
                                            "collection_method": "charge_automatically"})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id,
                                           "amount": 120_000, "currency": "usd"})
    inv = client.v1.invoices.pay(inv.id, params={"payment_method": good.id})
    assert (inv.status, inv.amount_paid) == ("open", 0)  # processing, not cash
    debit = client.v1.payment_intents.list(params={"limit": 1}).data[0]
    failed = cash.trigger(emu, f"/sandbox/payment_intents/{debit.id}/fail",
                     failure_code="insufficient_funds")
    assert failed["status"] == "requires_payment_method"
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.status, inv.amount_paid) == ("open", 0)
    assert "invoice.payment_failed" in cash.event_types(client, "invoice.")

    retry = client.v1.invoices.pay(inv.id, params={"payment_method": good.id})
    assert retry.status == "open"
    emu.advance(seconds=4 * cash.DAY)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.status, inv.amount_paid, inv.amount_remaining) == ("paid", 120_000, 0)


def test_payouts_and_disputes_carry_their_fixture_fields(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    cash.charge(client, 20_000, card="pm_card_createDispute")
    kept = cash.charge(client, 5_000)
    emu.advance(seconds=3 * cash.DAY)
    client.v1.refunds.create(params={"charge": kept.id, "amount": 100})
    reference = json.loads(FIXTURES.read_text())["resources"]
    for kind in ("payout", "dispute", "balance_transaction", "refund"):
        served = emu.objects(kind)
        assert served, kind
        for obj in served:
            assert not set(reference[kind]) - set(obj), kind
            assert obj["object"] == reference[kind]["object"]
    with pytest.raises(stripe.InvalidRequestError) as cards:
        client.v1.payment_methods.create(params={"type": "card"})
    assert cards.value.param == "type"
