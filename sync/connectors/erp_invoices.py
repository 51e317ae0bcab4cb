"""What every ERP connector refuses to post the same way, in the same words."""

from __future__ import annotations

from sync.errors import PermanentError
from sync.model import Invoice
from sync.money import format_money


def not_itemized(invoice: Invoice, system: str) -> PermanentError:
    """An invoice whose total its lines and their tax don't explain: parking the difference in
    deferred revenue would keep it there forever, so it is refused for a person to look at."""
    return PermanentError(
        f"Stripe invoice {invoice.number or invoice.billing_id} totals "
        f"{format_money(invoice.total_minor, invoice.currency)}, of which "
        f"{format_money(invoice.unitemized_minor, invoice.currency)} is on no line; it was not "
        "posted", system=system)
