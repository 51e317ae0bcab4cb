"""A void's or write-off's memo lines for what is open (`netsuite_closures.closure_lines`), split
as the ledger splits its closure: tax share in proportion, unearned first, then the earned part."""

from __future__ import annotations

from datetime import date

from sync.connectors.netsuite_closures import closure_lines
from sync.model import ClosureKind, ClosureLine, InvoiceClosure


def _closure(kind: ClosureKind) -> InvoiceClosure:
    """$1,000 implementation (earned) + $2,000 subscription ($500 earned) + $300 tax."""
    return InvoiceClosure(
        invoice_billing_id="in_1", kind=kind, currency="USD", closed_on=date(2026, 4, 11),
        tax_minor=30_000, lines=(
            ClosureLine(description="Implementation", recurring=False, amount_minor=100_000,
                        earned_minor=100_000),
            ClosureLine(description="Subscription", recurring=True, amount_minor=200_000,
                        earned_minor=50_000)))


def _amounts(lines: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
    return [(item, minor) for item, _, minor in lines]


def test_a_partly_paid_void_takes_out_the_open_amount_unearned_first() -> None:
    """$3,300 billed, $1,100 paid, $2,200 open: tax 300 x 2,200 / 3,300 = 200; of the 2,000
    revenue, 1,500 not earned (subscription), then 500 of the earned 1,500 split 1,000 : 500
    (333.34 : 166.66, the larger share taking the cent, as the ledger splits it)."""
    lines = closure_lines(_closure(ClosureKind.VOID), remaining=220_000, total=330_000,
                          recurring_item="Subscription", one_time_item="One-time")
    assert _amounts(lines) == [("Subscription", 150_000), ("One-time", 33_334),
                               ("Subscription", 16_666), ("Sales tax", 20_000)]
    assert sum(minor for _, _, minor in lines) == 220_000


def test_a_fully_open_void_takes_out_every_line() -> None:
    lines = closure_lines(_closure(ClosureKind.VOID), remaining=330_000, total=330_000,
                          recurring_item="Subscription", one_time_item="One-time")
    assert _amounts(lines) == [("Subscription", 150_000), ("One-time", 100_000),
                               ("Subscription", 50_000), ("Sales tax", 30_000)]


def test_a_write_off_books_the_earned_part_as_bad_debt() -> None:
    lines = closure_lines(_closure(ClosureKind.UNCOLLECTIBLE), remaining=220_000, total=330_000,
                          recurring_item="Subscription", one_time_item="One-time")
    assert _amounts(lines) == [("Subscription", 150_000), ("Bad debt", 50_000),
                               ("Sales tax", 20_000)]
