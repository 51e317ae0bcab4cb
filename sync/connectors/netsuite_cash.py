"""`NetSuiteCash`: the `CashErp` port over NetSuite, as NetSuite users book Stripe by hand.

Payments wait in Undeposited Funds (Stripe Clearing here) until a payout deposits them:
- a payout (Cash / Clearing) is a `deposit` into the operating bank, its lines from Clearing
  what the payout settled (each charge's gross, each fee, refund and dispute negative);
- a refund is a `creditMemo` on its invoice (keyed `refund:<re_…>`; on a paid invoice it stays
  unapplied, the customer's credit), paid out by a `customerRefund` from Clearing;
- an overpayment is a `customerPayment` applied to nothing (unapplied cash, inside AR as
  NetSuite keeps it); the customer's credit settling a later invoice is that payment's `apply`
  line on the invoice;
- everything else (card fees, disputes, their reversals and losses, a failed refund or payout)
  is a `journalEntry` with the posting's lines.
In a OneWorld account each record carries the subsidiary closebot books to (a legal entity's
own, docs/entities.md), and Clearing is read per subsidiary, so each entity's cash audit sees
its own books only.
Each record is written by external ID (the posting's; the memo's is the refund's), so a retry
after a lost response or a crash between two records finds what exists and creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sync.connectors.netsuite import CREDIT_ITEM, NetSuiteErp
from sync.connectors.netsuite_transport import RECORDS, SYSTEM
from sync.errors import PermanentError
from sync.money import format_money, from_minor, to_minor
from sync.ports_cash import (
    CASH,
    CHARGEBACK_LOSSES,
    CLEARING,
    CUSTOMER_CREDIT,
    DISPUTE_FEES,
    DISPUTED_FUNDS,
    PROCESSING_FEES,
    RECEIVABLE,
    REFUND_MEMO,
    ROLES,
    CashPosting,
    CreditApplication,
    Overpayment,
)

# Each role's account number in NetSuite's chart; customer credit is an unapplied credit memo,
# which sits in Accounts Receivable.
DEFAULT_ACCOUNTS: Mapping[str, str] = {
    CASH: "1000", RECEIVABLE: "1100", CUSTOMER_CREDIT: "1100", CLEARING: "1200",
    DISPUTED_FUNDS: "1300", PROCESSING_FEES: "6100", DISPUTE_FEES: "6300",
    CHARGEBACK_LOSSES: "6400",
}
IN_LIST = 200  # external IDs per SuiteQL `IN (…)`
# Where a customer's credit sits, by SuiteQL transaction type: the record to apply it from.
CREDIT_KINDS: Mapping[str, str] = {"CustPymt": "customerPayment", "CustCred": "creditMemo"}


class NetSuiteCash:
    name = SYSTEM

    def __init__(self, erp: NetSuiteErp, accounts: Mapping[str, str] = DEFAULT_ACCOUNTS) -> None:
        if unknown := sorted(set(accounts) - set(ROLES)) or sorted(set(ROLES) - set(accounts)):
            raise ValueError(f"NetSuite cash accounts: {', '.join(unknown)} is not a role, or has "
                             f"no account; the roles are {', '.join(ROLES)}")
        self.erp = erp
        self.numbers = dict(accounts)
        self._invoices: set[str] = set()  # known invoices never disappear: remember them

    def has_invoice(self, invoice_id: str) -> bool:
        if invoice_id not in self._invoices and self.erp._find("invoice", invoice_id):
            self._invoices.add(invoice_id)
        return invoice_id in self._invoices

    def post_cash(self, posting: CashPosting) -> str:
        net = _nets(posting)
        first = ""
        if posting.credit_invoice is not None and net.get(CUSTOMER_CREDIT, 0) > 0:
            paid_back = net.pop(CUSTOMER_CREDIT)
            net[CLEARING] = net.get(CLEARING, 0) + paid_back
            first = self._refund(posting, paid_back)
        if net.get(CASH, 0) > 0:
            deposited = net.pop(CASH)
            net[CLEARING] = net.get(CLEARING, 0) + deposited
            first = self._deposit(posting, deposited)
        lines = [(role, amount) for role, amount in net.items() if amount]
        if lines:
            journal = self._journal(posting, lines)
            first = first or journal
        return first

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        for posting in postings:  # each by external ID: a page cut short resumes where it was
            self.post_cash(posting)

    def posted(self, external_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        clearing = self._account(CLEARING)
        for start in range(0, len(external_ids), IN_LIST):
            chunk = ", ".join(_quoted(e) for e in external_ids[start:start + IN_LIST])
            rows = self.erp.suiteql("SELECT id, externalid, currency FROM transaction "
                                    f"WHERE externalid IN ({chunk})")
            owners = {row["id"]: (row["externalid"], self.erp._symbol(row)) for row in rows}
            for external_id, _ in owners.values():
                found.setdefault(external_id, 0)
            if not owners:
                continue
            for line in self.erp.suiteql(
                    "SELECT transaction, amount FROM transactionaccountingline WHERE account = "
                    f"{clearing} AND transaction IN ({', '.join(owners)})"):
                external_id, currency = owners[str(line["transaction"])]
                found[external_id] += to_minor(Decimal(line["amount"]), currency)
        return found

    def clearing_balance(self, currency: str) -> int:
        """Clearing's lines of the transactions in `currency` (in the subsidiary closebot books
        to, when it books to one)."""
        ours = {row["id"] for row in self.erp.suiteql(
            f"SELECT id FROM transaction WHERE currency = {self.erp._currency_id(currency)}")}
        if subsidiary := self.erp.setup.subsidiary:
            # SuiteQL keeps a transaction's subsidiary on its main line, not on `transaction`.
            ours &= {row["transaction"] for row in self.erp.suiteql(
                "SELECT transaction FROM transactionline WHERE mainline = 'T' AND subsidiary = "
                f"{int(subsidiary)}")}
        rows = self.erp.suiteql("SELECT transaction, amount FROM transactionaccountingline "
                                f"WHERE account = {self._account(CLEARING)}")
        return sum(to_minor(Decimal(row["amount"]), currency) for row in rows
                   if row["transaction"] in ours)

    def record_overpayment(self, overpayment: Overpayment, *, erp_invoice: str) -> str:
        """Dr Undeposited Funds / Cr AR, applied to nothing: the customer's unapplied cash."""
        found = self.erp._find("customerPayment", overpayment.key)
        if found:
            return found
        invoice = self.erp._get(f"invoice/{erp_invoice}")
        return self.erp._upsert("customerPayment", overpayment.key, {
            "customer": {"id": str(invoice["entity"]["id"])},
            "currency": {"id": self.erp._currency_id(overpayment.currency)},
            "tranDate": overpayment.paid_on.isoformat(),
            "payment": self._money_in(overpayment.amount_minor, overpayment.currency),
            "memo": f"Overpayment of Stripe invoice {overpayment.invoice_id}: the customer's "
                    "credit",
        })

    def apply_credit(self, application: CreditApplication, *, erp_invoice: str) -> str:
        """Apply the customer's credit, oldest first, to the invoice: their unapplied
        overpayments and credit memos (a Stripe credit note on a paid invoice is Stripe credit
        too; a refund's memo is not, its refund pays it out). What they already apply to the
        invoice counts, so a replay applies nothing twice."""
        invoice = self.erp._get(f"invoice/{erp_invoice}")
        customer = int(invoice["entity"]["id"])
        needed = application.amount_minor
        sources = [
            (kind, self.erp._get(f"{kind}/{row['id']}?expandSubResources=true"))
            for row in self.erp.suiteql(
                "SELECT id, type FROM transaction WHERE entity = "
                f"{customer} AND ((type = 'CustPymt' AND externalid LIKE '%:overpaid') OR "
                f"(type = 'CustCred' AND NOT externalid LIKE '{REFUND_MEMO}%')) ORDER BY id")
            for kind in [CREDIT_KINDS[row["type"]]]]
        for _, source in sources:
            for line in _applied(source):
                if str(line["doc"]["id"]) == str(erp_invoice):
                    needed -= self._minor(line["amount"], application.currency)
        last = ""
        for kind, source in sources:
            left = self._minor(source.get("unapplied") or 0, application.currency)
            if needed <= 0:
                break
            if left <= 0:
                continue
            take = min(left, needed)
            lines = [{"doc": {"id": str(line["doc"]["id"])}, "apply": True,
                      "amount": line["amount"]} for line in _applied(source)]
            lines.append({"doc": {"id": str(erp_invoice)}, "apply": True,
                          "amount": self._money_in(take, application.currency)})
            # The sublist sent replaces the record's: the lines it had, and the new one.
            self.erp._call(f"apply credit {kind}", "PATCH",
                           f"{RECORDS}/{kind}/{source['id']}", body={"apply": {"items": lines}})
            last = str(source["id"])
            needed -= take
        if needed > 0:
            used = format_money(application.amount_minor, application.currency)
            short = format_money(needed, application.currency)
            raise PermanentError(
                f"Stripe used {used} of the customer's credit on invoice "
                f"{application.invoice_id}, but the customer's unapplied payments and credit "
                f"memos in NetSuite are {short} short of it; record the credit in NetSuite, "
                "then retry", system=SYSTEM)
        return last

    def _money_in(self, minor: int, currency: str) -> Decimal:
        return from_minor(minor, currency)

    def _minor(self, amount: object, currency: str) -> int:
        return to_minor(Decimal(str(amount)), currency)

    # --- the records -----------------------------------------------------------------------

    def _head(self, posting: CashPosting) -> dict[str, Any]:
        return {**self.erp.setup.head(with_segments=False),
                "currency": {"id": self.erp._currency_id(posting.currency)},
                "tranDate": posting.posted_on.isoformat(), "memo": posting.memo[:999]}

    def _refund(self, posting: CashPosting, amount: int) -> str:
        """The credit memo first (found by the refund on a retry), then the refund paying it."""
        assert posting.credit_invoice is not None
        credit, invoice_ref = posting.credit_invoice
        memo_key = f"{REFUND_MEMO}{posting.source_ref}"
        invoice = self.erp._get(f"invoice/eid:{invoice_ref}")
        customer = str(invoice["entity"]["id"])
        memo_id = self.erp._find("creditMemo", memo_key)
        if memo_id is None:
            remaining = to_minor(Decimal(str(invoice.get("amountRemaining") or 0)),
                                 posting.currency)
            body: dict[str, Any] = {
                **self._head(posting), "entity": {"id": customer},
                **self.erp._invoice_rate(invoice),
                "item": {"items": [{"item": {"id": self.erp._item_id(CREDIT_ITEM)},
                                    "description": posting.memo[:999], "quantity": 1,
                                    "amount": self._money(credit, posting)}]},
            }
            if applied := min(credit, remaining):  # what the invoice still owes is settled
                body["apply"] = {"items": [{"doc": {"id": str(invoice["id"])}, "apply": True,
                                            "amount": self._money(applied, posting)}]}
            memo_id = self.erp._upsert("creditMemo", memo_key, body)
        return self.erp._upsert("customerRefund", posting.external_id, {
            **self._head(posting), "customer": {"id": customer},
            "account": {"id": self._account(CLEARING)},
            "apply": {"items": [{"doc": {"id": memo_id}, "apply": True,
                                 "amount": self._money(amount, posting)}]},
        })

    def _deposit(self, posting: CashPosting, amount: int) -> str:
        """One `other` line from Clearing per thing the payout settled (a charge's gross, its
        fee, a refund, a dispute withdrawal; NetSuite takes a negative line as a deduction), so
        the deposit reads as Stripe's payout and totals the bank line. Each fee, refund and
        dispute was already booked out of Clearing by its own record when Stripe moved the
        money (often before the payout), so the lines stay on Clearing: the deposit relieves
        Clearing of the payout's amount and nothing is expensed twice."""
        lines = [(line.amount_minor, line.memo) for line in posting.deposit_lines
                 if line.amount_minor]
        if sum(minor for minor, _ in lines) != amount:
            lines = [(amount, posting.memo)]  # no itemization that adds up: the net alone
        clearing = self._account(CLEARING)
        return self.erp._upsert("deposit", posting.external_id, {
            **self._head(posting), "account": {"id": self._account(CASH)},
            "other": {"items": [{"account": {"id": clearing},
                                 "amount": self._money(minor, posting), "memo": memo[:999]}
                                for minor, memo in lines]},
        })

    def _journal(self, posting: CashPosting, lines: list[tuple[str, int]]) -> str:
        return self.erp._upsert("journalEntry", posting.external_id, {
            **self._head(posting),
            "line": {"items": [
                {"account": {"id": self._account(role)}, "memo": posting.memo[:999],
                 ("debit" if amount > 0 else "credit"): self._money(abs(amount), posting)}
                for role, amount in lines]},
        })

    def _money(self, minor: int, posting: CashPosting) -> Decimal:
        return from_minor(minor, posting.currency)

    def _account(self, role: str) -> str:
        number = self.numbers[role]
        found = self.erp.account_ids().get(number)  # read once per connection, shared
        if found is None:
            raise PermanentError(
                f"NetSuite has no account number {number} for {role.replace('_', ' ')}; add it "
                "under Lists > Accounting > Accounts", system=SYSTEM)
        return found


def _nets(posting: CashPosting) -> dict[str, int]:
    """Each role's debit less credit, in the order the posting names them."""
    net: dict[str, int] = {}
    for leg in posting.legs:
        net[leg.role] = net.get(leg.role, 0) + leg.debit - leg.credit
    return net


def _applied(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list((record.get("apply") or {}).get("items") or [])


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
