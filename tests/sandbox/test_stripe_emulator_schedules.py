"""Subscription schedules in the Stripe emulator: made from a subscription, phases updated, the
next phase's prices taken at its start and billed whole, the end, and what Stripe refuses."""

from __future__ import annotations

import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox.test_stripe_emulator import START
from tests.sandbox.test_stripe_emulator_billing import client, emu  # noqa: F401 - fixtures

YEAR_END = 1_798_761_600  # 2027-01-01
STUB_END = 1_803_859_200  # 2027-03-01


def _annual(api: stripe.StripeClient) -> tuple[str, str]:
    """An annual $1,200.00 subscription billed by invoice: (subscription, product)."""
    cus = api.v1.customers.create(params={"name": "Hooli"})
    prod = api.v1.products.create(params={"name": "Platform"})
    sub = api.v1.subscriptions.create(params={
        "customer": cus.id, "collection_method": "send_invoice", "days_until_due": 30,
        "metadata": {"deal": "006A"},
        "items": [{"price_data": {"currency": "usd", "product": prod.id, "unit_amount": 120000,
                                  "recurring": {"interval": "year"}}}]})
    return sub.id, prod.id


def test_a_last_phase_bills_its_own_price_whole_and_the_subscription_ends_with_it(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:  # noqa: F811
    sub_id, prod = _annual(client)
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub_id})
    assert (sched.status, sched.end_behavior, sched.subscription) == ("active", "release", sub_id)
    assert [(p.start_date, p.end_date) for p in sched.phases] == [(START, YEAR_END)]
    assert client.v1.subscriptions.retrieve(sub_id).schedule == sched.id

    first = sched.phases[0]
    client.v1.subscription_schedules.update(sched.id, params={
        "end_behavior": "cancel",
        "phases": [
            {"items": [{"price": first["items"][0]["price"], "quantity": 1}],
             "start_date": first.start_date, "end_date": YEAR_END},
            {"items": [{"price_data": {"currency": "usd", "product": prod, "unit_amount": 20000,
                                       "recurring": {"interval": "month",
                                                     "interval_count": 2}}}],
             "end_date": STUB_END, "proration_behavior": "none",
             "metadata": {"deal": "006B"}}]})
    assert client.v1.subscriptions.retrieve(sub_id).cancel_at == STUB_END

    emu.advance(seconds=STUB_END + 86_400 - START)

    invoices = sorted(emu.objects("invoice"), key=lambda i: i["created"])
    assert [(i["total"], i["lines"]["data"][0]["period"]["start"],
             i["lines"]["data"][0]["period"]["end"],
             i["parent"]["subscription_details"]["metadata"]["deal"]) for i in invoices] == [
        (120000, START, YEAR_END, "006A"), (20000, YEAR_END, STUB_END, "006B")]
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert (sub.status, sub.canceled_at) == ("canceled", STUB_END)
    assert client.v1.subscription_schedules.retrieve(sched.id).status == "completed"


def test_what_stripe_refuses_and_a_release(client: stripe.StripeClient) -> None:  # noqa: F811
    sub_id, _ = _annual(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.create(params={
            "from_subscription": sub_id, "end_behavior": "cancel"})
    sched = client.v1.subscription_schedules.create(params={"from_subscription": sub_id})
    with pytest.raises(stripe.InvalidRequestError, match="already attached"):
        client.v1.subscription_schedules.create(params={"from_subscription": sub_id})
    with pytest.raises(stripe.InvalidRequestError, match="managed by the subscription schedule"):
        client.v1.subscriptions.update(sub_id, params={"cancel_at": YEAR_END - 86_400})
    with pytest.raises(stripe.InvalidRequestError, match="start date of the current phase"):
        client.v1.subscription_schedules.update(sched.id, params={"phases": [
            {"items": [{"price": sched.phases[0]["items"][0]["price"]}],
             "start_date": START + 1, "end_date": YEAR_END}]})

    released = client.v1.subscription_schedules.release(sched.id)
    assert (released.status, released.released_subscription) == ("released", sub_id)
    sub = client.v1.subscriptions.update(sub_id, params={"cancel_at": YEAR_END - 86_400})
    assert (sub.schedule, sub.cancel_at) == (None, YEAR_END - 86_400)
