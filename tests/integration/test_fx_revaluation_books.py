"""A EUR invoice open at a month end, end to end: Salesforce → Stripe (billed in EUR) → the
embedded ledger with FUNCTIONAL_CURRENCY=USD, closed with the invoice open, then paid.

S is the sandbox's today, E the last day of the month of S+1 (so after S). Rates (USD per
EUR): S 1.0850, E 1.1000. The deal: EUR 12,000.00 platform subscription for a year from S,
billed up front.
Worked by hand (USD):
- Invoice on S at 1.0850: Dr AR 13,020.00 / Cr Deferred Revenue 13,020.00.
- S's month closed if E is not in it (nothing to revalue: S's rate is its month end's).
- The close of E's month revalues the open invoice at E's 1.1000: EUR 12,000.00 = 13,200.00,
  carried at 13,020.00: Dr AR 180.00 / Cr Unrealized FX Gain/Loss 180.00, dated E; reversed
  on E+1, so AR is carried at 13,020.00 again.
- Paid by card on E+2 (E's rate, 1.1000): Dr Clearing 13,200.00 / Cr AR 13,020.00 / Cr
  Realized FX Gain/Loss 180.00. Unrealized nets to 0; AR 0 in both currencies.
The audit of the books passes before and after the payment: the revaluation moves nothing in EUR.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.timeutil import utcnow
from sync.ledger import Ledger, fx
from sync.ledger.accounts import REALIZED_FX, RECEIVABLE, STRIPE_CLEARING, UNREALIZED_FX
from sync.ledger.fx_rates import parse, store
from sync.ledger.periods import parse_period
from sync.ops.audit import run_audit
from tests.integration.books import advance, mirrored, seed, today
from tests.integration.cash import pay
from tests.integration.conftest import make_settings


def test_an_invoice_open_at_month_end_is_revalued_and_the_audit_passes(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    with SandboxStack(erp="ledger", slack=False) as stack:
        rt = build_runtime(make_settings(stack, db_url, functional_currency="USD"), sessions)
        rt.now = lambda: max(utcnow(), datetime.fromtimestamp(stack.stripe.now, UTC))
        start = today(stack)
        period = f"{start + timedelta(days=1):%Y-%m}"
        end = parse_period(period)[1]
        with transaction(sessions) as s:
            store(s, parse(f"date,base,quote,rate\n{start},EUR,USD,1.0850\n"
                           f"{end},EUR,USD,1.1000\n"), source="rates.csv")
        opp = seed(stack, DealSpec(
            "Klein GmbH - Platform", "Klein GmbH", "max@sales.example", "EUR", "Annual",
            "Net 30", 12, [LineSpec("Platform Subscription", 1, Decimal(12_000), "Recurring")],
            start))
        sync_once(rt)
        (invoice,) = mirrored(sessions, opp)
        ledger = Ledger(sessions, functional_currency="USD")

        if f"{start:%Y-%m}" != period:
            first = ledger.close_period(period=f"{start:%Y-%m}", by="controller",
                                        today=end + timedelta(days=1))
            assert first.revaluation == ()
        report = ledger.close_period(period=period, by="controller",
                                     today=end + timedelta(days=1))
        (eur,) = report.revaluation
        assert (eur.currency, eur.rate, eur.balances, eur.gain) == ("EUR", Decimal("1.1"), 1,
                                                                   18_000)
        with sessions() as s:
            (at_end,) = fx.trial_balances(s, as_of=end)
        carried = {a.code: a.debit_minor - a.credit_minor for a in at_end.accounts}
        assert (carried[RECEIVABLE], carried[UNREALIZED_FX]) == (1_320_000, -18_000)
        assert ledger.trial_balance("EUR")[RECEIVABLE] == 1_200_000
        audit = run_audit(rt, require_alerts=False)
        assert audit.ok, [v.message for v in audit.variances]

        advance(stack, days=(end - start).days + 2)
        pay(stack, invoice.billing_id)
        sync_once(rt)
        trial = ledger.functional_trial_balance()
        assert trial.get(RECEIVABLE, 0) == 0 and UNREALIZED_FX not in trial
        assert (trial[STRIPE_CLEARING], trial[REALIZED_FX]) == (1_320_000, -18_000)
        assert sum(trial.values()) == 0
        audit = run_audit(rt, require_alerts=False)
        assert audit.ok, [v.message for v in audit.variances]
