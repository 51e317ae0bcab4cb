"""Which contract line (performance obligation) each invoice line bills, and what an invoice
bills that the contract does not explain.

The biller names each line's product; a line bills the obligation selling that product in the
deal's contract (the latest version first, for an amended deal; among several, the one with the
same billing type whose service period the line's period falls in). Tax belongs to the tax
authority, not to an obligation. Anything else is revenue closebot has no schedule for: a line
whose product the contract doesn't sell, or an amount no line itemizes (a manual adjustment in
the biller). Posting it would leave it in deferred revenue forever, so it is reported instead, in
words finance reads, and the invoice is not posted until a person decides.
"""

from __future__ import annotations

from collections.abc import Sequence

from sync.model import Contract, Invoice, InvoiceLine, Obligation
from sync.money import format_money


def _match(line: InvoiceLine, obligations: Sequence[Obligation]) -> Obligation | None:
    same = [o for o in obligations if line.product and o.product == line.product]
    if len(same) > 1:
        same = [o for o in same if o.recurring == line.recurring] or same
    if len(same) > 1 and line.period_start:
        start = line.period_start
        same = [o for o in same if o.service_start <= start <= o.service_end] or same
    return same[0] if same else None


def attribute(invoice: Invoice, contracts: Sequence[Contract]) -> tuple[Invoice, list[str]]:
    """The invoice with each line's obligation filled in, and what nothing explains."""
    obligations = [o for c in sorted(contracts, key=lambda c: -c.version) for o in c.obligations]
    lines: list[InvoiceLine] = []
    problems: list[str] = []
    for line in invoice.lines:
        match = _match(line, obligations)
        if match is None and line.amount_minor:
            problems.append(
                f"its line \"{line.description}\" for "
                f"{format_money(line.amount_minor, invoice.currency)} bills no product of the "
                "opportunity")
        lines.append(line.model_copy(update={"obligation_id": match.line_id if match else None}))
    if invoice.unitemized_minor:
        problems.append(
            f"{format_money(invoice.unitemized_minor, invoice.currency)} of its total is on no "
            "line")
    return invoice.model_copy(update={"lines": tuple(lines)}), problems


def unexplained_reason(invoice: Invoice, problems: Sequence[str]) -> str:
    """Why the invoice was not posted, and what a person can do about it."""
    return (
        f"Stripe invoice {invoice.number or invoice.billing_id} was not posted to the ERP: "
        + "; ".join(problems)
        + ". Add the product to the opportunity in Salesforce, or void the invoice in Stripe and "
        "issue it again without it, then press Retry."
    )
