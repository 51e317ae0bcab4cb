"""The NetSuite emulator's cash records over HTTPS with a TBA-signed client: a deposit of
Undeposited Funds, a customer refund of a credit memo, journal entries that must balance, and
each one's general-ledger lines read back through SuiteQL `transactionaccountingline`.

The worked example, one customer (hand-computed, dollars):
                                        Dr          Cr
    invoice          AR             1,000.00
                     Sales                     1,000.00
    payment          Undeposited    1,000.00
                     AR                        1,000.00
    card fee (JE)    Fees              29.30
                     Undeposited                  29.30
    credit memo      Sales            200.00
                     AR                          200.00   (unapplied: the customer's credit)
    refund           AR               200.00
                     Undeposited                 200.00
    deposit          Bank             770.70
                     Undeposited                 770.70
After: Undeposited 0, Bank 770.70, AR 0, fees 29.30, Sales -800.00; the memo fully refunded.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from sandbox.netsuite import NetSuiteEmulator
from tests.sandbox.test_netsuite_emulator import (
    REC,
    USD,
    connect,
    create,
    customer,
    decoded,
    error,
    invoice,
    item,
    lines,
    send,
    suiteql,
)


@pytest.fixture
def ns() -> Iterator[httpx.Client]:
    with NetSuiteEmulator() as emu, connect(emu) as client:
        yield client


def accounts(ns: httpx.Client) -> dict[str, str]:
    """Account internal id by number."""
    rows = suiteql(ns, "SELECT id, acctnumber FROM account").json()["items"]
    return {row["acctnumber"]: row["id"] for row in rows}


def balances(ns: httpx.Client) -> dict[str, Decimal]:
    """Each account's debit-less-credit balance, by number."""
    number = {v: k for k, v in accounts(ns).items()}
    out: dict[str, Decimal] = {}
    for row in suiteql(ns, "SELECT account, amount FROM transactionaccountingline").json()["items"]:
        key = number[row["account"]]
        out[key] = out.get(key, Decimal(0)) + Decimal(row["amount"])
    return out


def head(memo: str) -> dict[str, object]:
    return {"currency": USD, "tranDate": "2026-01-20", "memo": memo}


def test_refund_and_deposit_tie_out_in_the_general_ledger(ns: httpx.Client) -> None:
    acct = accounts(ns)
    cust, product = customer(ns, "Cash Co"), item(ns)
    inv = invoice(ns, cust, product, "1000.00")
    create(ns, "customerPayment", {
        "customer": {"id": cust}, **head("card"), "payment": Decimal("1000.00"),
        "apply": {"items": [{"doc": {"id": inv}, "amount": Decimal("1000.00")}]}})
    create(ns, "journalEntry", {**head("fee"), "line": {"items": [
        {"account": {"id": acct["6100"]}, "debit": Decimal("29.30")},
        {"account": {"id": acct["1200"]}, "credit": Decimal("29.30")}]}})
    memo = create(ns, "creditMemo", {"entity": {"id": cust}, **head("refund"),
                                     "item": lines(product, "200.00")})
    refund = {"customer": {"id": cust}, "account": {"id": acct["1200"]}, **head("refund"),
              "apply": {"items": [{"doc": {"id": memo}, "amount": Decimal("200.00")}]}}
    assert send(ns, "PUT", f"{REC}/customerRefund/eid:stripe:txn_r", refund).status_code == 204
    # The same refund again (a retry after a lost answer) is the same record, still valid.
    assert send(ns, "PUT", f"{REC}/customerRefund/eid:stripe:txn_r", refund).status_code == 204
    create(ns, "deposit", {**head("payout"), "account": {"id": acct["1000"]},
                           "other": {"items": [{"account": {"id": acct["1200"]},
                                                "amount": Decimal("770.70")}]}})
    assert balances(ns) == {"1000": Decimal("770.70"), "1100": 0, "1200": 0,
                            "4000": Decimal("-800.00"), "6100": Decimal("29.30")}
    credit = decoded(ns.get(f"{REC}/creditMemo/{memo}"))
    assert credit["amountRemaining"] == 0
    assert credit["status"] == {"id": "B", "refName": "Fully Applied"}
    paid_back = decoded(ns.get(f"{REC}/customerRefund/eid:stripe:txn_r?expandSubResources=true"))
    (applied,) = paid_back["apply"]["items"]
    assert (applied["doc"]["id"], applied["amount"], paid_back["total"]) == (
        memo, Decimal("200"), Decimal("200"))
    assert paid_back["account"]["refName"] == "1200 Undeposited Funds"
    kinds = suiteql(ns, "SELECT type FROM transaction WHERE externalid = 'stripe:txn_r'")
    assert [row["type"] for row in kinds.json()["items"]] == ["CustRfnd"]


def test_cash_records_refuse_what_would_unbalance_the_books(ns: httpx.Client) -> None:
    acct = accounts(ns)
    cust, product = customer(ns, "Strict Co"), item(ns)
    unbalanced = send(ns, "POST", f"{REC}/journalEntry", {**head("x"), "line": {"items": [
        {"account": {"id": acct["6100"]}, "debit": Decimal("10.00")},
        {"account": {"id": acct["1200"]}, "credit": Decimal("9.99")}]}})
    assert "out of balance" in error(unbalanced, 400, "USER_ERROR")["detail"]
    memo = create(ns, "creditMemo", {"entity": {"id": cust}, **head("r"),
                                     "item": lines(product, "50.00")})
    too_much = send(ns, "POST", f"{REC}/customerRefund", {
        "customer": {"id": cust}, "account": {"id": acct["1200"]}, **head("r"),
        "apply": {"items": [{"doc": {"id": memo}, "amount": Decimal("50.01")}]}})
    detail = error(too_much, 400, "USER_ERROR")["detail"]
    assert "refund 50.01 of credit memo CM1: 50 is left" in detail
    empty = send(ns, "POST", f"{REC}/deposit", {**head("p"), "account": {"id": acct["1000"]},
                                                 "other": {"items": []}})
    error(empty, 400, "USER_ERROR")
    # Only the credit memo posted: nothing of the refused records was written.
    assert balances(ns) == {"1100": Decimal("-50"), "4000": Decimal("50")}


def test_deposit_lines_sum_to_its_total_and_a_negative_line_is_a_deduction(
    ns: httpx.Client,
) -> None:
    """A payout's deposit itemized (hand-computed): charge 1,000.00, its fee -29.30, a refund
    -200.00 out of Undeposited Funds: total 770.70; Bank Dr 770.70, Undeposited Dr 229.30 and
    Cr 1,000.00 (net -770.70). A zero line, and lines that take more than they deposit, are
    refused and write nothing."""
    acct = accounts(ns)
    undeposited = {"id": acct["1200"]}
    made = create(ns, "deposit", {**head("payout"), "account": {"id": acct["1000"]},
                                  "other": {"items": [
                                      {"account": undeposited, "amount": Decimal("1000.00")},
                                      {"account": undeposited, "amount": Decimal("-29.30")},
                                      {"account": undeposited, "amount": Decimal("-200.00")}]}})
    deposit = decoded(ns.get(f"{REC}/deposit/{made}?expandSubResources=true"))
    assert deposit["total"] == Decimal("770.70")
    assert [line["amount"] for line in deposit["other"]["items"]] == [
        Decimal("1000"), Decimal("-29.3"), Decimal("-200")]
    rows = suiteql(ns, f"SELECT account, debit, credit FROM transactionaccountingline "
                       f"WHERE transaction = {made}").json()["items"]
    assert sorted((row["account"], Decimal(str(row["debit"])), Decimal(str(row["credit"])))
                  for row in rows) == sorted([
        (acct["1000"], Decimal("770.70"), 0), (acct["1200"], 0, Decimal("1000.00")),
        (acct["1200"], Decimal("29.30"), 0), (acct["1200"], Decimal("200.00"), 0)])
    assert balances(ns) == {"1000": Decimal("770.70"), "1200": Decimal("-770.70")}
    for items in ([{"account": undeposited, "amount": Decimal("0")}],
                  [{"account": undeposited, "amount": Decimal("10.00")},
                   {"account": undeposited, "amount": Decimal("-10.00")}]):
        refused = send(ns, "POST", f"{REC}/deposit", {**head("p"), "account": {"id": acct["1000"]},
                                                       "other": {"items": items}})
        error(refused, 400, "USER_ERROR")
    assert balances(ns) == {"1000": Decimal("770.70"), "1200": Decimal("-770.70")}


def test_each_line_books_to_its_items_account(ns: httpx.Client) -> None:
    """An item's income account is set per item, and may be any account: a service billed on
    an item pointing at 4100, and its write-off on a "Bad debt" item pointing at Bad Debt
    Expense. By hand (dollars):
                                        Dr          Cr
    invoice          AR             1,000.00
                     Services                  1,000.00   (the item's income account)
    credit memo      Bad debt         600.00              (the item's income account)
                     Sales            400.00              (an item with no account)
                     AR                        1,000.00
    After: AR 0, 4100 -1,000.00, 6200 600.00, 4000 400.00."""
    acct = accounts(ns)
    cust = customer(ns, "Write-off Co")
    services = create(ns, "serviceSaleItem", {"itemId": "Services",
                                              "incomeAccount": {"id": acct["4100"]}})
    bad_debt = create(ns, "serviceSaleItem", {"itemId": "Bad debt",
                                              "incomeAccount": {"id": acct["6200"]}})
    plain = item(ns, "Plain")
    inv = invoice(ns, cust, services, "1000.00")
    create(ns, "creditMemo", {
        "entity": {"id": cust}, **head("written off"),
        "item": {"items": [*lines(bad_debt, "600.00")["items"], *lines(plain, "400.00")["items"]]},
        "apply": {"items": [{"doc": {"id": inv}, "amount": Decimal("1000.00")}]}})
    assert balances(ns) == {"1100": 0, "4100": Decimal("-1000.00"), "6200": Decimal("600.00"),
                            "4000": Decimal("400.00")}
