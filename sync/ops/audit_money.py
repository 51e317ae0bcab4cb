"""Deal by deal, in money: what Salesforce books equals what the contract's versions bill, what
the ERP's sales orders hold, and what Salesforce shows as outstanding; the biller stops at the
contract's end; a deal marked synced reflects its latest contract version everywhere.

The booked value is Salesforce's current Amount; while a changed contract waits for approval (or
was rejected), it is the value of the version Stripe bills, as closebot approved it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sync.ops.audit_billing import DealBilling, billed_after, billing_ends, still_to_bill
from sync.ops.audit_invoices import ErpView, expected_open
from sync.ops.audit_variance import Found, Side, money
from sync.ports import BilledInvoice, CrmDealView

HELD = ("awaiting_approval", "rejected")


@dataclass(frozen=True)
class DealState:
    """closebot's own view of one deal."""

    status: str
    current_version: int | None
    totals: dict[int, int] = field(default_factory=dict)  # contract version → its total
    ends: dict[int, date] = field(default_factory=dict)  # contract version → its end date
    # A contract changed mid-term is worth its first version plus each change order (the
    # prorated difference from each effective date), not its latest version's list value.
    amended: int | None = None
    amended_version: int | None = None  # the latest version billed, to which `amended` runs


@dataclass
class Totals:
    """Per currency: what each system holds for the deals checked, in minor units."""

    figures: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(
        lambda: defaultdict(int)))

    def add(self, currency: str, **amounts: int) -> None:
        for name, amount in amounts.items():
            self.figures[currency][name] += amount

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {cur: dict(values) for cur, values in sorted(self.figures.items())}


def boundary(end: date) -> datetime:
    """The first moment after an inclusive contract end date."""
    return datetime.combine(end + timedelta(days=1), time(), UTC)


def check_deal(found: Found, totals: Totals, view: CrmDealView, state: DealState,
               billing: DealBilling, erp: ErpView) -> None:
    opp, cur = view.opportunity_id, view.currency or ""
    version = billing.version
    orders = erp.orders_of(opp)
    if version is None and not orders:
        if state.status == "synced":
            found.add("contract_value",
                      f"{view.name} is marked synced but Stripe bills nothing for it", opp=opp,
                      sides=(Side("Salesforce", "opportunity Amount", view.amount_minor, cur, opp),
                             Side("Stripe", "invoices and subscriptions", 0, cur)),
                      difference=view.amount_minor, currency=cur)
        return
    billed_in = {i.currency for i in billing.invoices} | {s.currency for s in billing.subscriptions}
    if billed_in and cur not in billed_in:
        found.add("currency_mismatch",
                  f"{view.name}: Salesforce books the deal in {cur or 'no currency'} but Stripe "
                  f"bills it in {', '.join(sorted(billed_in))}", opp=opp,
                  sides=(Side("Salesforce", f"opportunity CurrencyIsoCode {cur}", record_id=opp),
                         Side("Stripe", f"invoices and subscriptions in {sorted(billed_in)}")))
        return
    booked, booked_side = _booked(found, view, state, version)
    end = view.contract_end or state.ends.get(state.current_version or 0)
    term_end = boundary(end) if end else None
    billed, scheduled = billing.billed, billing.scheduled(term_end)
    stripe = Side("Stripe", "invoices net of voids and credit notes, excluding tax, plus what "
                  "the subscription still bills", billed + scheduled, cur,
                  ", ".join(sorted({s.id for s in billing.subscriptions}
                                   | {i.id for i in billing.invoices})))
    found.compare("contract_value", booked_side, stripe,
                  f"{view.name}: booked {money(booked, cur)} but Stripe bills "
                  f"{money(billed + scheduled, cur)} over the term ({money(billed, cur)} billed, "
                  f"{money(scheduled, cur)} still to bill)", opp=opp)
    ordered = sum(o.total_minor for o in orders)
    found.compare("erp_order_value", booked_side,
                  Side(erp.name, "sales orders of the deal's versions", ordered, cur,
                       ", ".join(o.external_id for o in orders) or None),
                  f"{view.name}: booked {money(booked, cur)} but the sales orders in {erp.name} "
                  f"hold {money(ordered, cur)}", opp=opp)
    if state.status == "synced" and version and (state.current_version or 0) > version:
        found.add("stale_version",
                  f"{view.name} is marked synced, but Stripe still bills contract version "
                  f"{version} of {state.current_version}", opp=opp,
                  sides=(Side("closebot", f"contract version {state.current_version}",
                              record_id=opp),
                         Side("Stripe", f"contract version {version}", record_id=", ".join(
                             s.id for s in billing.subscriptions) or None)))
    if term_end is not None and end is not None:
        _term(found, view, billing, end, term_end)
    stripe_open, erp_open = _balances(found, view, billing, erp)
    invoiced = sum(erp.invoices[i.id].total_minor - erp.invoices[i.id].reversed_minor
                   for i in billing.invoices if i.status != "draft" and i.id in erp.invoices)
    totals.add(cur, booked=booked, billed=billed, scheduled=scheduled, erp_orders=ordered,
               erp_invoiced=invoiced,
               concessions=billing.concessions, stripe_open=stripe_open, erp_receivable=erp_open)


def _booked(found: Found, view: CrmDealView, state: DealState, version: int | None
            ) -> tuple[int, Side]:
    opp, cur = view.opportunity_id, view.currency or ""
    if state.status in HELD and version and version < (state.current_version or 0):
        amount = state.totals.get(version, 0)
        return amount, Side("closebot", f"contract version {version} as approved (version "
                            f"{state.current_version} awaits a decision)", amount, cur, opp)
    amount = view.amount_minor or 0
    current = state.totals.get(state.current_version or 0)
    if (state.amended is not None and state.amended_version == state.current_version
            and current is not None and not found.differs(current, amount)):
        return state.amended, Side(
            "closebot", f"opportunity Amount {money(amount, cur)} as amended mid-term (the "
            "first version and each change order's prorated difference)", state.amended, cur,
            opp)
    if current is not None and found.differs(current, amount):
        found.add("stale_version",
                  f"{view.name}: Salesforce books {money(amount, cur)} but closebot's latest "
                  f"contract version {state.current_version} holds {money(current, cur)}",
                  opp=opp, sides=(Side("Salesforce", "opportunity Amount", amount, cur, opp),
                                  Side("closebot", f"contract version {state.current_version}",
                                       current, cur, opp)),
                  difference=amount - current, currency=cur)
    return amount, Side("Salesforce", "opportunity Amount", amount, cur, opp)


def _term(found: Found, view: CrmDealView, billing: DealBilling, end: date,
          term_end: datetime) -> None:
    opp, cur = view.opportunity_id, view.currency or ""
    for sub, stops in billing_ends(billing):
        if stops is None:
            per = sum(p[2] for p in still_to_bill(sub, term_end)[:1])
            found.add("billing_past_term",
                      f"{view.name}: Stripe subscription {sub.id} has no end date; it bills on "
                      f"after the contract ends on {end.isoformat()}", opp=opp,
                      sides=(Side("Salesforce", f"Contract_End_Date__c {end.isoformat()}",
                                  record_id=opp),
                             Side("Stripe", "subscription cancel_at: none", per, cur, sub.id)),
                      difference=per, currency=cur)
        elif stops > term_end and (value := billed_after(billing, term_end)) > found.tolerance:
            found.add("billing_past_term",
                      f"{view.name}: Stripe bills service up to {stops.date().isoformat()}, "
                      f"{(stops - term_end).days} days past the contract's end on "
                      f"{end.isoformat()}: {money(value, cur)} of service after the end", opp=opp,
                      sides=(Side("Salesforce", f"Contract_End_Date__c {end.isoformat()}", 0,
                                  cur, opp),
                             Side("Stripe", f"subscription billed through "
                                  f"{stops.date().isoformat()}", value, cur, sub.id)),
                      difference=value, currency=cur)
            return


def _balances(found: Found, view: CrmDealView, billing: DealBilling, erp: ErpView
              ) -> tuple[int, int]:
    """Salesforce's balance and invoice status against both; returns (Stripe open, ERP open)."""
    opp, cur = view.opportunity_id, view.currency or ""
    final = [i for i in billing.invoices if i.status != "draft"]
    stripe_open = sum(expected_open(i) for i in final)
    erp_open = sum(erp.invoices[i.id].open_minor for i in final if i.id in erp.invoices)
    if not final and view.outstanding_minor is None:
        return stripe_open, erp_open
    sf = Side("Salesforce", "opportunity Outstanding_Balance__c", view.outstanding_minor, cur,
              opp)
    found.compare("crm_balance_mismatch", sf, Side("Stripe", "open invoices' amount remaining",
                                                   stripe_open, cur),
                  f"{view.name}: Salesforce shows {money(view.outstanding_minor, cur)} "
                  f"outstanding but Stripe says {money(stripe_open, cur)}", opp=opp)
    found.compare("crm_balance_mismatch", sf, Side(erp.name, "receivable on the deal's invoices",
                                                   erp_open, cur),
                  f"{view.name}: Salesforce shows {money(view.outstanding_minor, cur)} "
                  f"outstanding but {erp.name} holds {money(erp_open, cur)} receivable", opp=opp)
    if view.invoice_number:
        _status(found, view, final, erp)
    return stripe_open, erp_open


def _status(found: Found, view: CrmDealView, final: list[BilledInvoice], erp: ErpView) -> None:
    opp, cur = view.opportunity_id, view.currency or ""
    named = next((i for i in final if i.number == view.invoice_number), None)
    status = (view.invoice_status or "").lower()
    if named is None:
        found.add("crm_status_mismatch",
                  f"{view.name}: Salesforce names invoice {view.invoice_number}, which Stripe "
                  "does not hold for this deal", opp=opp,
                  sides=(Side("Salesforce", f"Invoice_Number__c {view.invoice_number}",
                              record_id=opp),))
        return
    posted = erp.invoices.get(named.id)
    erp_says = None if posted is None else ("open" if posted.open_minor else "settled")
    agrees = status == named.status and (erp_says is None or (erp_says == "open") == (
        named.status == "open"))
    if not agrees:
        found.add("crm_status_mismatch",
                  f"{view.name}: invoice {named.number} is {view.invoice_status or 'blank'} in "
                  f"Salesforce, {named.status} in Stripe and "
                  f"{erp_says or 'not posted'} in {erp.name}", opp=opp,
                  sides=(Side("Salesforce", f"Invoice_Status__c {view.invoice_status}",
                              record_id=opp),
                         Side("Stripe", f"invoice {named.status}, amount remaining",
                              expected_open(named), cur, named.id),
                         Side(erp.name, "invoice receivable",
                              posted.open_minor if posted else None, cur, named.id)))
