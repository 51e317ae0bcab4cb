"""`IntacctCash`: the `CashErp` port over Sage Intacct, as its users book Stripe by hand.

Stripe payments wait in Undeposited Funds (the AR payment's `undepositedFundsGLAccount`, which
is Stripe Clearing here) until a payout moves them to the bank:
- a refund is an AR adjustment on its invoice (`refund:<re_…>`, applied up to what the invoice
  still owes; on a paid invoice it stays open, the customer's credit), then the entry below;
- every entry (card fee, payout, refund leaving Clearing, dispute, its reversal or loss, a
  failed refund or payout) is a `general-ledger/journal-entry` with the entry's net per account.
A payout is a journal entry (Dr the bank / Cr Undeposited Funds), not a `cash-management/deposit`:
Sage's deposit moves the gross of the payments it names out of Undeposited Funds, while a Stripe
payout is net of the fees and refunds already booked out of Clearing; a one-line entry for the
payout's amount is what matches the bank line.
A customer's credit follows Sage's AR documents (developer.intacct.com, AR advances and AR
payments: "use ARADVANCE to create advances", "ARPYMT ... is used to apply advances to invoices";
REST `accounts-receivable/advance` and the payment detail's `postedAdvance`):
- an overpayment is an AR advance (`<invoice>:overpaid`): Dr Undeposited Funds / Cr Customer
  Advances (INTACCT_CUSTOMER_ADVANCES_ACCOUNT), the customer's credit until an invoice uses it;
- the customer's credit used on a later invoice (`<invoice>:credit`) is one AR payment moving no
  cash: its details apply the customer's open advances (`postedAdvance`) and open credit
  adjustments (`inlineTxn`; a Stripe credit note on a paid invoice, never a refund's, which its
  refund pays out), oldest first.
Every record carries closebot's key in `referenceNumber` and is read by it through the query
service before it is written, so a retry after a lost response, or a crash between an
adjustment and its entry, finds what exists and creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sync.connectors.intacct import (
    ADJUSTMENT,
    DEFERRED,
    INVOICE,
    PAYMENT,
    GlAccounts,
    IntacctErp,
)
from sync.connectors.intacct_journal import GL_LINE as JOURNAL_LINE
from sync.connectors.intacct_journal import JOURNAL_ENTRY, post_journal
from sync.connectors.intacct_transport import SYSTEM
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

ADVANCE = "accounts-receivable/advance"
ACCOUNT = "general-ledger/account"
IN_LIST = 100  # references per `$in` filter
# Each role's GL account; a customer's credit is an open AR adjustment, inside AR. Clearing is
# the undeposited funds account payments land in (INTACCT_UNDEPOSITED_FUNDS_ACCOUNT).
DEFAULT_ACCOUNTS: Mapping[str, str] = {
    CASH: "1000", RECEIVABLE: "1100", CUSTOMER_CREDIT: "1100", DISPUTED_FUNDS: "1300",
    PROCESSING_FEES: "6100", DISPUTE_FEES: "6300", CHARGEBACK_LOSSES: "6400",
}


def cash_accounts(gl: GlAccounts, overrides: Mapping[str, str]) -> dict[str, str]:
    """Each role's account: the defaults, Clearing as undeposited funds, then the settings."""
    if unknown := sorted(set(overrides) - set(ROLES)):
        raise ValueError(f"Sage Intacct cash accounts: {', '.join(unknown)} is not a role; the "
                         f"roles are {', '.join(ROLES)}")
    return {**DEFAULT_ACCOUNTS, CLEARING: gl.undeposited_funds, **overrides}


class IntacctCash:
    name = SYSTEM

    def __init__(self, erp: IntacctErp, accounts: Mapping[str, str], *, journal: str = "GJ"
                 ) -> None:
        if missing := sorted(set(ROLES) - set(accounts)):
            raise ValueError(f"Sage Intacct cash accounts: no account for {', '.join(missing)}")
        self.erp = erp
        self.accounts = dict(accounts)
        self.journal = journal
        self._chart: set[str] | None = None
        self._invoices: dict[str, str] = {}  # known invoices never disappear: remember them

    def has_invoice(self, invoice_id: str) -> bool:
        return self._invoice_key(invoice_id) is not None

    def post_cash(self, posting: CashPosting) -> str:
        self._check_chart()
        first = ""
        if posting.credit_invoice is not None:
            first = self._refund_credit(posting)
        net: dict[str, int] = {}
        for leg in posting.legs:
            account = self.accounts[leg.role]
            net[account] = net.get(account, 0) + leg.debit - leg.credit
        lines = [(account, amount) for account, amount in net.items() if amount]
        if lines:
            first = self._journal(posting, lines) or first
        return first

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        for posting in postings:  # each by its reference: a page cut short resumes where it was
            self.post_cash(posting)

    def posted(self, external_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        clearing = self.accounts[CLEARING]
        for start in range(0, len(external_ids), IN_LIST):
            chunk = list(external_ids[start:start + IN_LIST])
            owners = {str(r["key"]): r["referenceNumber"] for r in self.erp.query(
                JOURNAL_ENTRY, ["key", "referenceNumber"],
                [{"$in": {"referenceNumber": chunk}}])}
            for reference in owners.values():
                found.setdefault(reference, 0)
            if not owners:
                continue
            for line in self.erp.query(
                    JOURNAL_LINE, ["journalEntry.key", "txnAmount", "txnType",
                                   "currency.txnCurrency"],
                    [{"$eq": {"glAccount.id": clearing}},
                     {"$in": {"journalEntry.key": sorted(owners)}}]):
                found[owners[str(line["journalEntry.key"])]] += _signed(line)
        return found

    def clearing_balance(self, currency: str) -> int:
        """What payments put in Clearing and journal entries moved in or out, in `currency`."""
        clearing = self.accounts[CLEARING]
        paid_in = sum(to_minor(Decimal(str(r["totalTxnAmount"])), currency)
                      for r in self.erp.query(PAYMENT, ["totalTxnAmount"], [
                          {"$eq": {"undepositedFundsGLAccount.id": clearing}},
                          {"$eq": {"currency.txnCurrency": currency}}]))
        moved = sum(_signed(line) for line in self.erp.query(
            JOURNAL_LINE, ["txnAmount", "txnType", "currency.txnCurrency"],
            [{"$eq": {"glAccount.id": clearing}}, {"$eq": {"currency.txnCurrency": currency}}]))
        advanced = sum(to_minor(Decimal(str(r["totalTxnAmount"])), currency)
                       for r in self.erp.query(ADVANCE, ["totalTxnAmount"], [
                           {"$eq": {"undepositedFundsGLAccount.id": clearing}},
                           {"$eq": {"currency.txnCurrency": currency}}]))
        return paid_in + advanced + moved

    # --- the customer's credit ---------------------------------------------------------------

    def record_overpayment(self, overpayment: Overpayment, *, erp_invoice: str) -> str:
        """Dr Undeposited Funds (Clearing) / Cr Customer Advances: the part of the payment the
        invoice didn't need, an advance from its customer (found by its key on a retry)."""
        found = self.erp._find(ADVANCE, overpayment.key)
        if found:
            return found
        invoice = self.erp._get(INVOICE, erp_invoice)
        currency, amount = overpayment.currency, overpayment.amount_minor
        memo = f"Overpayment of Stripe invoice {overpayment.invoice_id}: the customer's credit"
        return self.erp._create(ADVANCE, {
            "customer": {"id": str(invoice["customer"]["id"])},
            "currency": self.erp._currency(currency, overpayment.paid_on),
            "paymentMethod": "eft", "paymentDate": overpayment.paid_on.isoformat(),
            "referenceNumber": overpayment.key, "description": memo,
            "paymentInformation": {"accountType": "undepositedFundsAccount"},
            "undepositedFundsGLAccount": {"id": self.accounts[CLEARING]},
            "lines": [{"glAccount": {"id": self.erp.accounts.customer_advances},
                       "txnAmount": str(from_minor(amount, currency)), "memo": memo}]})

    def apply_credit(self, application: CreditApplication, *, erp_invoice: str) -> str:
        """One AR payment applying the customer's open advances and credit adjustments, oldest
        first, to the invoice: all of it is one record, found by its key on a retry."""
        found = self.erp._find(PAYMENT, application.key)
        if found:
            return found
        invoice = self.erp._get(INVOICE, erp_invoice)
        customer, currency = str(invoice["customer"]["id"]), application.currency
        mine = [{"$eq": {"customer.id": customer}}, {"$eq": {"currency.txnCurrency": currency}}]
        sources = [(int(r["key"]), "postedAdvance", str(r["key"]), self._minor(
            r["totalTxnAmountDue"], currency)) for r in self.erp.query(
                ADVANCE, ["key", "totalTxnAmountDue"], mine)]
        sources += [(int(r["key"]), "inlineTxn", str(r["key"]), -self._minor(
            r["totalTxnAmountDue"], currency)) for r in self.erp.query(
                ADJUSTMENT, ["key", "referenceNumber", "totalTxnAmountDue"], mine)
            if not str(r.get("referenceNumber") or "").startswith(REFUND_MEMO)]
        needed, details = application.amount_minor, []
        for _, kind, key, left in sorted(sources):
            if needed <= 0:
                break
            if left <= 0:
                continue
            take = min(left, needed)
            details.append({"arInvoice": {"key": erp_invoice}, kind: {"key": key},
                            "txnAmount": str(from_minor(take, currency))})
            needed -= take
        if needed > 0:
            raise PermanentError(
                f"Stripe used {format_money(application.amount_minor, currency)} of the "
                f"customer's credit on invoice {application.invoice_id}, but the customer's open "
                f"advances and credit adjustments in Sage Intacct are "
                f"{format_money(needed, currency)} short of it; record the credit in Sage "
                "Intacct, then retry", system=SYSTEM)
        return self.erp._create(PAYMENT, {
            "customer": {"id": customer},
            "currency": self.erp._invoice_currency(invoice, currency),
            "paymentDate": application.applied_on.isoformat(), "paymentMethod": "Credit",
            "referenceNumber": application.key,
            "description": f"The customer's credit used on Stripe invoice "
                           f"{application.invoice_id}",
            "details": details})

    def _minor(self, amount: object, currency: str) -> int:
        return to_minor(Decimal(str(amount)), currency)

    # --- the records -----------------------------------------------------------------------

    def _refund_credit(self, posting: CashPosting) -> str:
        """The refund's adjustment on its invoice (found by the refund on a retry)."""
        assert posting.credit_invoice is not None
        amount, invoice_ref = posting.credit_invoice
        invoice = self._invoice_key(invoice_ref)
        if invoice is None:
            raise PermanentError(f"Stripe invoice {invoice_ref} has no invoice in Sage Intacct to "
                                 "credit the refund on; post the deal first", system=SYSTEM)
        return self.erp._credit(f"{REFUND_MEMO}{posting.source_ref}", invoice, posting.currency,
                                [(DEFERRED, posting.memo, amount)],
                                posting.posted_on.isoformat(), posting.memo)

    def _journal(self, posting: CashPosting, lines: list[tuple[str, int]]) -> str:
        return post_journal(
            self.erp, reference=posting.external_id, currency=posting.currency,
            posted_on=posting.posted_on, description=posting.memo, journal=self.journal,
            lines=[(account, "debit" if amount > 0 else "credit", abs(amount), posting.memo)
                   for account, amount in lines])

    def _invoice_key(self, invoice_id: str) -> str | None:
        if invoice_id not in self._invoices and (key := self.erp._find(INVOICE, invoice_id)):
            self._invoices[invoice_id] = key
        return self._invoices.get(invoice_id)

    def _check_chart(self) -> None:
        """Every account a role names exists, read once: a missing one is refused by name."""
        if self._chart is None:
            wanted = sorted(set(self.accounts.values()))
            self._chart = {str(r["id"]) for r in self.erp.query(
                ACCOUNT, ["id"], [{"$in": {"id": wanted}}])}
        for role, account in self.accounts.items():
            if account not in self._chart:
                self._chart = None  # read again next time: someone may add it
                raise PermanentError(
                    f"Sage Intacct has no GL account {account} for {role.replace('_', ' ')}; add "
                    "it under General Ledger > Accounts or set INTACCT_CASH_ACCOUNTS",
                    system=SYSTEM)


def _signed(line: dict[str, Any]) -> int:
    """A journal line's amount in minor units, debit positive."""
    amount = to_minor(Decimal(str(line["txnAmount"])), line["currency.txnCurrency"])
    return amount if line["txnType"] == "debit" else -amount
