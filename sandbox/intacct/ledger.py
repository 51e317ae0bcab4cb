"""The general ledger the company's records post, computed from them as Sage Intacct posts them
(never stored): an invoice Dr AR / Cr its lines' accounts; an adjustment the reverse (its lines
are negative); a payment's cash Dr its undeposited funds account / Cr AR (a credit applied by a
payment moves nothing in the ledger; an advance it applies moves the amount from the advance's
account to AR); an advance Dr its undeposited funds account / Cr its lines' accounts; a
journal entry its own lines. Amounts are signed, debit positive, in the record's transaction
currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.intacct import objects as o
from sandbox.intacct.store import ZERO, Store


def gl_lines(store: Store) -> list[tuple[str, Decimal, str, str]]:
    """(GL account, debit less credit, currency, the record's key) of every posting."""
    lines: list[tuple[str, Decimal, str, str]] = []
    for obj, sign in ((o.INVOICE, 1), (o.ADJUSTMENT, 1)):
        for row in store.rows[obj].values():
            currency = row["currency"]["txnCurrency"]
            lines.append((o.AR_ACCOUNT, sign * store.total(row), currency, row["key"]))
            lines.extend((line["glAccount"]["id"], -sign * line["txnAmount"], currency,
                          row["key"]) for line in row["lines"])
    for row in store.rows[o.PAYMENT].values():
        currency = row["currency"]["txnCurrency"]
        if row["totalTxnAmount"]:
            lines.append((row["undepositedFundsGLAccount"]["id"], row["totalTxnAmount"],
                          currency, row["key"]))
            lines.append((o.AR_ACCOUNT, -row["totalTxnAmount"], currency, row["key"]))
        for detail in row["details"]:  # an advance applied: out of its account, into AR's
            if "postedAdvance" in detail:
                advance = store.rows[o.ADVANCE][detail["postedAdvance"]["key"]]
                lines.append((advance["lines"][0]["glAccount"]["id"], detail["txnAmount"],
                              currency, row["key"]))
                lines.append((o.AR_ACCOUNT, -detail["txnAmount"], currency, row["key"]))
    for row in store.rows[o.ADVANCE].values():
        currency = row["currency"]["txnCurrency"]
        lines.append((row["undepositedFundsGLAccount"]["id"], store.total(row), currency,
                      row["key"]))
        lines.extend((line["glAccount"]["id"], -line["txnAmount"], currency, row["key"])
                     for line in row["lines"])
    for row in store.rows[o.JOURNAL_ENTRY].values():
        lines.extend((line["glAccount"]["id"], _signed(line), row["currency"]["txnCurrency"],
                      row["key"]) for line in row["lines"])
    return lines


def balances(store: Store, currency: str) -> dict[str, Decimal]:
    """Each GL account's balance in `currency`, debit positive."""
    found: dict[str, Decimal] = {}
    with store.lock:
        for account, amount, held, _ in gl_lines(store):
            if held == currency:
                found[account] = found.get(account, ZERO) + amount
    return found


def journal_lines(store: Store) -> list[dict[str, Any]]:
    """Every journal entry's lines as rows of their own, each naming its entry."""
    rows = []
    for entry in store.rows[o.JOURNAL_ENTRY].values():
        currency = entry["currency"]["txnCurrency"]
        for n, line in enumerate(entry["lines"], start=1):
            rows.append({**line, "key": f"{entry['key']}-{n}", "entity": entry.get("entity"),
                         "txnAmount": o.money(line["txnAmount"], currency),
                         "entryDate": entry.get("postingDate"),
                         "currency": {"txnCurrency": currency},
                         "journalEntry": {"key": entry["key"], "id": entry["id"],
                                          "referenceNumber": entry.get("referenceNumber")}})
    return rows


def _signed(line: dict[str, Any]) -> Decimal:
    amount: Decimal = line["txnAmount"]
    return amount if line["txnType"] == "debit" else -amount
