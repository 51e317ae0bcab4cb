"""`LedgerCash`: the `CashErp` port over the embedded ledger. A refund's credit memo is keyed by
the refund (`refund:<re_…>`) and its cash entry by the balance transaction, so a crash between
the two finds the memo and posts only the entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from sync.errors import PermanentError
from sync.ledger import Ledger, LedgerError
from sync.ledger.accounts import CUSTOMER_CREDIT as CREDIT_ACCOUNT
from sync.ledger.accounts import STRIPE_CLEARING
from sync.ledger.cash import clearing_effects
from sync.ledger.entity_books import account_balance
from sync.ports_cash import (
    CLEARING,
    CUSTOMER_CREDIT,
    REFUND_MEMO,
    CashPosting,
    CreditApplication,
    Leg,
    Overpayment,
)

SYSTEM = "ledger"
DealEntities = Callable[[Session], Mapping[str, str]]  # opportunity → entity


@dataclass(frozen=True)
class Scope:
    """Whose Clearing a cash port reads when entities keep their own Stripe accounts: these
    entities' books (`entity_books.NO_ENTITY` for the company's own), by each deal's entity."""

    entities: frozenset[str]
    deal_entities: DealEntities


class LedgerCash:
    name = SYSTEM

    def __init__(self, ledger: Ledger, *, entity: str | None = None,
                 scope: Scope | None = None) -> None:
        self.ledger = ledger
        # The entity whose own Stripe account this port books: each entry records it.
        self.entity = entity
        self.scope = scope
        self._invoices: set[str] = set()  # known invoices never disappear: remember them

    def _stamped(self, posting: CashPosting) -> CashPosting:
        return dataclasses.replace(posting, entity=self.entity) if self.entity else posting

    def has_invoice(self, invoice_id: str) -> bool:
        if invoice_id not in self._invoices and self.ledger.invoice(invoice_id) is not None:
            self._invoices.add(invoice_id)
        return invoice_id in self._invoices

    def post_cash(self, posting: CashPosting) -> str:
        posting = self._stamped(posting)
        try:
            if posting.credit_invoice is not None:
                amount, invoice_id = posting.credit_invoice
                self.ledger.post_credit_memo(
                    external_id=f"{REFUND_MEMO}{posting.source_ref}",
                    invoice_external_id=invoice_id,
                    amount_minor=amount, currency=posting.currency, reason=posting.memo,
                    posted_on=posting.posted_on,
                )
            return self.ledger.post_cash(posting)
        except LedgerError as exc:
            raise PermanentError(str(exc), system=SYSTEM) from exc

    def record_overpayment(self, overpayment: Overpayment, *, erp_invoice: str) -> str:
        """Dr Stripe Clearing / Cr Customer Credit Balances: the money came in with the payment,
        the invoice was settled by the rest of it (`apply_payment`)."""
        return self.post_cash(CashPosting(
            external_id=overpayment.key,
            memo=f"overpayment of invoice {overpayment.invoice_id}, the customer's credit",
            posted_on=overpayment.paid_on, currency=overpayment.currency,
            source_ref=overpayment.invoice_id,
            legs=(Leg(CLEARING, debit=overpayment.amount_minor),
                  Leg(CUSTOMER_CREDIT, credit=overpayment.amount_minor)),
        ))

    def apply_credit(self, application: CreditApplication, *, erp_invoice: str) -> str:
        """Dr Customer Credit Balances / Cr AR, settling the invoice like a payment would."""
        try:
            return self.ledger.apply_payment(
                external_id=application.key, invoice_external_id=application.invoice_id,
                amount_minor=application.amount_minor, currency=application.currency,
                paid_on=application.applied_on, paid_from=CREDIT_ACCOUNT,
            )
        except LedgerError as exc:
            raise PermanentError(str(exc), system=SYSTEM) from exc

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        try:
            self.ledger.post_cash_many([self._stamped(p) for p in postings])
        except LedgerError as exc:
            raise PermanentError(str(exc), system=SYSTEM) from exc

    def posted(self, external_ids: Sequence[str]) -> dict[str, int]:
        return self.ledger.read(lambda s: clearing_effects(s, external_ids))  # type: ignore[no-any-return]

    def clearing_balance(self, currency: str) -> int:
        if self.scope is None:
            return self.ledger.account_balance(STRIPE_CLEARING, currency)
        scope = self.scope
        return int(self.ledger.read(lambda s: account_balance(
            s, scope.deal_entities(s), STRIPE_CLEARING, currency, scope.entities)))
