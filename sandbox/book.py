"""Books of deals for the Salesforce emulator: the demo's five stories and generated loads."""

from __future__ import annotations

import calendar
import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol


@dataclass
class LineSpec:
    product: str
    quantity: int
    unit_price: Decimal
    billing_type: str  # "Recurring" | "One-Time"
    discount: Decimal = Decimal(0)


@dataclass
class DealSpec:
    name: str
    account: str
    owner_email: str
    currency: str
    cadence: str | None
    terms: str
    months: int
    lines: list[LineSpec]
    start: date = field(default_factory=lambda: datetime.now(UTC).date())
    extra: dict[str, Any] = field(default_factory=dict)
    account_extra: dict[str, Any] = field(default_factory=dict)  # e.g. BillingCountry

    @property
    def amount(self) -> Decimal:
        return sum(
            (ln.unit_price * ln.quantity * (1 - ln.discount / 100) for ln in self.lines),
            Decimal(0),
        ).quantize(Decimal("0.01"))


def _end(start: date, months: int) -> date:
    """The inclusive end of a term of `months` from `start`: the day before the same day
    `months` later, that day clamped to the month's length (Nov 30 + 3 months → Feb 27), as a
    CRM computes it and as a biller's periods from `start` run."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def _today() -> date:
    return datetime.now(UTC).date()


def demo_deals(today: date | None = None) -> list[DealSpec]:
    """Contracts that start today, so the first invoices are issued now."""
    start = today or _today()
    return [
        DealSpec(
            "Acme Corp - Platform 2026", "Acme Corp", "dana@acme-sales.example", "USD",
            "Annual", "Net 30", 10,
            [LineSpec("Implementation Services", 1, Decimal("20000"), "One-Time"),
             LineSpec("Platform Subscription", 1, Decimal("100000"), "Recurring")],
            start,
        ),
        DealSpec(
            "Globex - Renewal", "Globex", "sam@globex-sales.example", "USD",
            None, "Net 30", 12,
            [LineSpec("Platform Subscription", 1, Decimal("48000"), "Recurring")], start,
        ),
        DealSpec(
            "Initech - Expansion", "Initech", "lee@initech-sales.example", "USD",
            "Monthly", "Net 30", 12,
            [LineSpec("Platform Seats", 20, Decimal("1200"), "Recurring", Decimal("35"))], start,
        ),
        DealSpec(
            "Umbrella - Seats 2026", "Umbrella Health", "kim@umbrella-sales.example", "USD",
            "Quarterly", "Net 45", 12,
            [LineSpec("Platform Seats", 50, Decimal("2400"), "Recurring")], start,
        ),
        DealSpec(
            "Wayne Enterprises GmbH - EU", "Wayne Enterprises GmbH", "max@wayne-sales.example",
            "EUR", "Annual", "Net 30", 24,
            [LineSpec("Platform Subscription", 1, Decimal("60000"), "Recurring")], start,
        ),
    ]


def generated_deals(count: int, *, seed: int = 7, today: date | None = None) -> list[DealSpec]:
    """A varied book: monthly, quarterly and annual; flat and per-seat; some one-time fees."""
    rng = random.Random(seed)
    start = today or _today()
    deals = []
    for n in range(count):
        cadence, months = rng.choice([("Monthly", 12), ("Quarterly", 12), ("Annual", 12),
                                      ("Monthly", 6), ("Annual", 24)])
        periods = months // {"Monthly": 1, "Quarterly": 3, "Annual": 12}[cadence]
        seats = rng.choice([1, 1, 5, 10, 25])
        per_period = Decimal(rng.randrange(50, 2000)) * 10
        lines = [LineSpec("Platform Subscription", seats, per_period * periods, "Recurring")]
        if rng.random() < 0.3:
            lines.append(LineSpec("Onboarding", 1, Decimal(rng.randrange(10, 100)) * 100,
                                  "One-Time"))
        deals.append(
            DealSpec(
                f"Deal {n:06d}", f"Customer {n:06d}", f"rep{n % 40}@sales.example",
                rng.choice(["USD", "USD", "USD", "EUR", "GBP"]), cadence,
                rng.choice(["Net 30", "Net 30", "Net 45", "Due on receipt"]), months, lines,
                start,
            )
        )
    return deals


def slack_people(deals: Iterable[DealSpec]) -> list[tuple[str, str, str]]:
    """The deals' owners as Slack users (id, email, name), so a Slack stand-in can find them by
    email; the id is derived from the email, so seeding twice names each person once."""
    emails = dict.fromkeys(deal.owner_email for deal in deals)
    return [("U0" + hashlib.sha256(email.encode()).hexdigest()[:9].upper(), email,
             _rep_name(email)) for email in emails]


def _rep_name(email: str) -> str:
    return f"{email.split('@')[0].title()} Rep"


class Org(Protocol):
    """Where a book is written: the emulator in this process, or an org over its REST API."""

    standard_pricebook_id: str

    def seed(self, sobject: str, fields: dict[str, Any]) -> str: ...


class BookSeeder:
    """Writes deals into the emulator as a sales team would have entered them."""

    def __init__(self, sf: Org) -> None:
        self.sf = sf
        self._users: dict[str, str] = {}
        self._products: dict[tuple[str, str], tuple[str, str]] = {}
        self._pricebook = sf.standard_pricebook_id

    def seed(self, deal: DealSpec) -> str:
        # The billing address's domain is the name's first word, kept to what a domain allows.
        domain = re.sub(r"[^a-z0-9-]", "", deal.account.split()[0].lower()) or "customer"
        account = self.sf.seed(
            "Account", {"Name": deal.account, "Billing_Email__c": f"ap@{domain}.example",
                        **deal.account_extra},
        )
        fields: dict[str, Any] = {
            "Name": deal.name,
            "AccountId": account,
            "OwnerId": self._user(deal.owner_email),
            "StageName": "Closed Won",
            "CloseDate": _today().isoformat(),
            "Amount": deal.amount,
            "CurrencyIsoCode": deal.currency,
            "Contract_Start_Date__c": deal.start.isoformat(),
            "Contract_End_Date__c": _end(deal.start, deal.months).isoformat(),
            "Payment_Terms__c": deal.terms,
            "Product_Line__c": "Platform",
            "Type": "New Business",
        }
        if deal.cadence:
            fields["Billing_Cadence__c"] = deal.cadence
        fields.update(deal.extra)
        opportunity = self.sf.seed("Opportunity", fields)
        for line in deal.lines:
            product, entry = self._product(line.product, line.unit_price, deal.currency)
            values: dict[str, Any] = {
                "OpportunityId": opportunity,
                "Product2Id": product,
                "PricebookEntryId": entry,
                "Quantity": line.quantity,
                "UnitPrice": line.unit_price,
                "Billing_Type__c": line.billing_type,
            }
            if line.discount:
                values["Discount"] = line.discount
            self.sf.seed("OpportunityLineItem", values)
        return opportunity

    def _user(self, email: str) -> str:
        if email not in self._users:
            first, last = _rep_name(email).rsplit(" ", 1)
            self._users[email] = self.sf.seed(
                "User", {"FirstName": first, "LastName": last, "Email": email, "IsActive": True}
            )
        return self._users[email]

    def _product(self, name: str, price: Decimal, currency: str) -> tuple[str, str]:
        key = (name, f"{currency}:{price}")
        if key not in self._products:
            product = self.sf.seed("Product2", {"Name": name, "IsActive": True})
            entry = self.sf.seed(
                "PricebookEntry",
                {"Pricebook2Id": self._pricebook, "Product2Id": product, "UnitPrice": price,
                 "CurrencyIsoCode": currency, "IsActive": True},
            )
            self._products[key] = (product, entry)
        return self._products[key]
