"""What a deal's contract versions bill over the term, as the biller holds it.

Billed: the deal's invoices (drafts included: they finalize by themselves) net of voids and of
credit notes, tax left out (tax is not contract value). Credits approved in Slack as concessions
(their key is `closebot:credit:<approval>`) are counted apart: a concession lowers what the
customer pays, not what was booked. Scheduled: what each subscription still bills, from its
current period end, period after period from its billing anchor, up to its `cancel_at`; a
`cancel_at` inside a period bills that period pro rata by the second, as the biller does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sync.dates import add_months
from sync.money import prorate as prorate_minor
from sync.ports import BilledCredit, BilledInvoice, BilledSubscription, BillingBooks

CONCESSION = "closebot:credit:"
ENDED = ("canceled", "incomplete_expired")
Period = tuple[datetime, datetime, int]  # start, end, amount


@dataclass
class DealBilling:
    invoices: list[BilledInvoice] = field(default_factory=list)
    subscriptions: list[BilledSubscription] = field(default_factory=list)
    credits: list[BilledCredit] = field(default_factory=list)

    @property
    def version(self) -> int | None:
        """The newest contract version the biller reflects (its objects' metadata)."""
        found = [i.contract_version for i in self.invoices if i.contract_version]
        found += [s.contract_version for s in self.subscriptions if s.contract_version]
        return max(found, default=None)

    def live_credits(self) -> list[BilledCredit]:
        return [c for c in self.credits if c.status != "void"]

    @property
    def concessions(self) -> int:
        return sum(c.amount_minor for c in self.live_credits() if _concession(c))

    @property
    def billed(self) -> int:
        gross = sum(i.total_minor - i.tax_minor for i in self.invoices if i.status != "void")
        return gross - sum(c.amount_minor for c in self.live_credits() if not _concession(c))

    def scheduled(self, term_end: datetime | None) -> int:
        return sum(p[2] for s in self.subscriptions for p in still_to_bill(s, term_end))


def _concession(credit: BilledCredit) -> bool:
    return bool(credit.key and credit.key.startswith(CONCESSION))


def by_deal(books: BillingBooks) -> dict[str, DealBilling]:
    deals: dict[str, DealBilling] = {}
    owner: dict[str, str] = {}
    for inv in books.invoices:
        if inv.opportunity_id:
            deals.setdefault(inv.opportunity_id, DealBilling()).invoices.append(inv)
            owner[inv.id] = inv.opportunity_id
    for sub in books.subscriptions:
        if sub.opportunity_id:
            deals.setdefault(sub.opportunity_id, DealBilling()).subscriptions.append(sub)
    for credit in books.credits:
        if credit.invoice_id in owner:
            deals[owner[credit.invoice_id]].credits.append(credit)
    return deals


def prorate(amount: int, part: timedelta, whole: timedelta) -> int:
    return prorate_minor(amount, int(part.total_seconds()), int(whole.total_seconds()))


def still_to_bill(sub: BilledSubscription, term_end: datetime | None) -> list[Period]:
    """The periods a subscription has yet to bill, each with its amount."""
    if sub.status in ENDED or not sub.interval_months or sub.current_period_end is None:
        return []
    stop = sub.cancel_at or term_end
    if stop is None:
        return []
    per_period = sum(item.unit_minor * item.quantity for item in sub.items)
    n = 0
    while add_months(sub.anchor, n * sub.interval_months) < sub.current_period_end and n < 10_000:
        n += 1
    periods: list[Period] = []
    while (start := add_months(sub.anchor, n * sub.interval_months)) < stop and n < 10_000:
        natural = add_months(sub.anchor, (n + 1) * sub.interval_months)
        end = min(natural, stop)
        periods.append((start, end, per_period if end == natural else prorate(
            per_period, end - start, natural - start)))
        n += 1
    return periods


def billed_after(deal: DealBilling, boundary: datetime) -> int:
    """The value of service billed or still scheduled after `boundary`, pro rata by time."""
    value = 0
    for inv in deal.invoices:
        if inv.status == "void":
            continue
        for line in inv.lines:
            start, end = line.period_start, line.period_end
            if line.recurring and start and end and end > boundary:
                value += prorate(line.amount_minor, end - max(start, boundary), end - start)
    for sub in deal.subscriptions:
        for start, end, amount in still_to_bill(sub, None):
            if end > boundary:
                value += prorate(amount, end - max(start, boundary), end - start)
    return value


def billing_ends(deal: DealBilling) -> list[tuple[BilledSubscription, datetime | None]]:
    """Each live subscription with the moment it stops billing (None: it never stops)."""
    return [(s, s.cancel_at) for s in deal.subscriptions if s.status not in ENDED]
