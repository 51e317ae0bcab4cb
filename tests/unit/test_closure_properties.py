"""Property tests for how a void or write-off splits what is open on an invoice, in every ERP:
`split_earned` (the ledger's split of an earned part across accounts) and `closure_lines` (a
NetSuite memo's lines, split the same way). Whatever the invoice's lines, tax and payments, the
pieces add back to the cent, none is negative, and no line gives back more than it billed."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from sync.connectors.netsuite_closures import BAD_DEBT_ITEM, TAX_ITEM, closure_lines
from sync.ledger.closures import split_earned
from sync.model import ClosureKind, ClosureLine, InvoiceClosure

weights = st.dictionaries(st.sampled_from(("4000", "4100", "4200")),
                          st.integers(min_value=0, max_value=10_000_000), min_size=1)


@given(total=st.integers(min_value=0, max_value=50_000_000), weights=weights)
def test_an_earned_part_splits_exactly(total: int, weights: dict[str, int]) -> None:
    shares = split_earned(total, weights)
    if not sum(weights.values()):
        assert shares == {}
        return
    assert sum(shares.values()) == total
    assert all(share > 0 for share in shares.values())
    assert set(shares) <= {k for k, w in weights.items() if w}  # nothing to a line that earned 0
    if total <= sum(weights.values()):  # never more back from an account than it earned
        assert all(shares[k] <= weights[k] for k in shares)


@st.composite
def closures(draw: st.DrawFn) -> tuple[InvoiceClosure, int, int]:
    """An itemized invoice (lines + tax = total), part of it earned, some of it paid."""
    lines = tuple(
        ClosureLine(description=f"Line {i}", recurring=draw(st.booleans()),
                    amount_minor=(amount := draw(st.integers(1, 20_000_000))),
                    earned_minor=draw(st.integers(0, amount)))
        for i in range(draw(st.integers(1, 4))))
    tax = draw(st.integers(0, 2_000_000))
    total = sum(line.amount_minor for line in lines) + tax
    closure = InvoiceClosure(
        invoice_billing_id="in_p", kind=draw(st.sampled_from(ClosureKind)), currency="USD",
        closed_on=date(2026, 4, 11), tax_minor=tax, lines=lines)
    return closure, draw(st.integers(0, total)), total


@given(case=closures())
def test_a_closure_takes_out_exactly_what_is_open(
        case: tuple[InvoiceClosure, int, int]) -> None:
    closure, remaining, total = case
    lines = closure_lines(closure, remaining=remaining, total=total,
                          recurring_item="Subscription", one_time_item="One-time")
    assert sum(minor for _, _, minor in lines) == remaining
    assert all(minor > 0 for _, _, minor in lines)
    tax = sum(minor for item, _, minor in lines if item == TAX_ITEM)
    assert tax <= closure.tax_minor
    # Unearned first: the earned part (bad debt, or a void's earned lines) is only what the
    # open balance has beyond every line's unearned part.
    unearned = sum(x.amount_minor - x.earned_minor for x in closure.lines)
    bad_debt = sum(minor for item, _, minor in lines if item == BAD_DEBT_ITEM)
    assert bad_debt == (max(remaining - tax - unearned, 0)
                        if closure.kind is ClosureKind.UNCOLLECTIBLE else 0)
    assert bad_debt <= sum(x.earned_minor for x in closure.lines)
    # Each item gives back no more than its lines billed.
    for item in ("Subscription", "One-time"):
        billed = sum(x.amount_minor for x in closure.lines
                     if ("Subscription" if x.recurring else "One-time") == item)
        assert sum(minor for it, _, minor in lines if it == item) <= billed
