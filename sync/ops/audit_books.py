"""The ERP's own books, obligation by obligation (the embedded ledger; NetSuite's records can't
be read at this depth, and the report says so).

An obligation is one deliverable of a deal (its product), across the deal's contract versions:
its price is what its sales order lines hold, its schedule what they plan. Invoice lines belong
to the obligation whose product they name; a credit memo is spread over its invoice's lines in
proportion to their amounts, the part of it booked to contra revenue in proportion to what each
had earned by the credit's day. Then:
- invoiced, less credits to deferred revenue, less recognized = its deferred revenue, which
  is never a debit balance; recognized revenue never exceeds the obligation's price;
- a void or write-off (a closure) takes from deferred revenue what its invoice billed and was not
  earned yet, and that part leaves the schedule too; a void also takes back, from the invoice,
  the revenue it reverses;
- a credit goes to contra revenue only for revenue already earned by the credit's date, and the
  schedule plans the price less the credits taken from deferred revenue (it was re-planned);
  the price is as allocated: relative SSP, and a contract modification's reallocation or
  catch-up (`sync/ledger/modification_replan.py`) move it with the schedule, so they tie out;
  a schedule moved without its price does not;
- the deal's deferred revenue in the general ledger is exactly its obligations' deferred
  revenue: anything else in it (tax, an amount no obligation itemizes) would never be released;
- per currency, Deferred Revenue never has a debit and Accounts Receivable never a credit balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sync.ops.audit_variance import Found, Side, money
from sync.ports import LedgerBooks, PostedCredit, PostedInvoice, ScheduledObligation

Key = tuple[str, bool]  # product, recurring
CHECKED = ("receivable", "deferred_revenue", "revenue", "contra_revenue")
CLOSURES = ("invoice_void", "invoice_uncollectible")


@dataclass
class Obligation:
    price: int = 0  # allocated (relative SSP): what it recognizes
    billed_price: int = 0  # the contract price its invoices bill
    scheduled: int = 0
    schedule: list[tuple[date, int]] = field(default_factory=list)
    invoiced: int = 0
    recognized: int = 0
    # A negative catch-up re-planned and not posted yet: revenue already taken back in the plan.
    catch_up_due: int = 0
    credited: int = 0
    credited_to_deferred: int = 0
    closed: int = 0  # deferred revenue taken back by a void or write-off
    contra: list[tuple[date, int]] = field(default_factory=list)

    @property
    def deferred(self) -> int:
        return self.invoiced - self.taken_back - self.recognized

    @property
    def taken_back(self) -> int:
        return self.credited_to_deferred + self.closed

    def earned_by(self, day: date) -> int:
        return sum(amount for on, amount in self.schedule if on <= day)


@dataclass
class Deal:
    currency: str
    obligations: dict[Key, Obligation] = field(default_factory=dict)
    deferred_in_ledger: int = 0  # credit-positive
    orders: set[str] = field(default_factory=set)

    def match(self, description: str, recurring: bool) -> Key | None:
        """The obligation an invoice line names: the longest product name in its text, of the
        same kind (recurring or not) when there is one."""
        named = [k for k in self.obligations if k[0] and k[0] in description]
        named.sort(key=lambda k: (k[1] == recurring, len(k[0])), reverse=True)
        return named[0] if named else None


def deal_of(order_external_id: str) -> str:
    opp, sep, version = order_external_id.rpartition(":v")
    return opp if sep and version.isdigit() else order_external_id


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, largest remainders first; sums to `total`."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (total * weights[i]) % whole, reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def check_ledger(found: Found, books: LedgerBooks, invoices: list[PostedInvoice],
                 credits: list[PostedCredit], erp: str, names: dict[str, str]) -> None:
    deals = _obligations(books.obligations)
    closed = {p.invoice_external_id for p in books.postings if p.source in CLOSURES}
    shares = _invoiced(deals, invoices, closed)
    unallocated = _credits(deals, books, credits, shares)
    _ledger_side(found, deals, books, erp)
    for opp, deal in sorted(deals.items()):
        _check_deal(found, opp, names.get(opp, f"deal {opp}"), deal, unallocated.get(opp, 0),
                    erp)


def _obligations(rows: tuple[ScheduledObligation, ...]) -> dict[str, Deal]:
    deals: dict[str, Deal] = {}
    for row in rows:
        deal = deals.setdefault(deal_of(row.order_external_id), Deal(row.currency))
        deal.orders.add(row.order_external_id)
        ob = deal.obligations.setdefault((row.product, row.recurring), Obligation())
        ob.price += row.price_minor
        ob.billed_price += row.price_minor if row.contract_minor is None else row.contract_minor
        ob.scheduled += sum(amount for _, amount, _ in row.schedule)
        ob.schedule += [(on, amount) for on, amount, _ in row.schedule]
        ob.catch_up_due += sum(amount for _, amount, posted in row.schedule
                               if amount < 0 and not posted)
    return deals


def _invoiced(deals: dict[str, Deal], invoices: list[PostedInvoice], closed: set[str | None]
              ) -> dict[str, tuple[str, list[tuple[Key | None, int]]]]:
    """Invoice lines onto obligations; returns each invoice's deal and lines, for credits."""
    shares = {}
    for inv in invoices:
        deal = deals.get(deal_of(inv.order_external_id or ""))
        if deal is None or (inv.total_minor and inv.reversed_minor >= inv.total_minor
                            and inv.external_id not in closed):
            continue  # not a deal's invoice, or its entry reversed as a whole
        lines = _allocated([(deal.match(text, recurring), amount)
                            for text, amount, recurring in inv.lines], deal)
        for key, amount in lines:
            if key is not None:
                deal.obligations[key].invoiced += amount
        shares[inv.external_id] = (deal_of(inv.order_external_id or ""), lines)
    return shares


def _allocated(lines: list[tuple[Key | None, int]], deal: Deal) -> list[tuple[Key | None, int]]:
    """An invoice's lines as its obligations' deferred revenue holds them. When allocation moved
    prices (relative SSP), what the invoice bills for the deal's obligations is shared by all of
    them in proportion to their allocated prices (a free item too); its total doesn't change.
    Billed up front, this is each obligation's allocated price exactly; billed over the term, an
    obligation delivered before it is billed shows its contract asset as a debit."""
    if all(ob.price == ob.billed_price for ob in deal.obligations.values()):
        return lines
    keys = sorted(deal.obligations)
    billed = sum(amount for key, amount in lines if key is not None)
    shares = allocate(billed, [max(deal.obligations[k].price, 0) for k in keys])
    return [(None, amount) for key, amount in lines if key is None] + list(
        zip(keys, shares, strict=True))


def _credits(deals: dict[str, Deal], books: LedgerBooks, credits: list[PostedCredit],
             shares: dict[str, tuple[str, list[tuple[Key | None, int]]]]) -> dict[str, int]:
    """Credit memos onto obligations; returns per deal what they took from deferred revenue
    for lines no obligation names."""
    parts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    dated: dict[str, date] = {}
    for p in books.postings:
        if p.source == "credit_memo":
            parts[p.source_ref][p.role] += p.amount_minor
            dated[p.source_ref] = min(dated.get(p.source_ref, p.posted_on), p.posted_on)
    unallocated: dict[str, int] = defaultdict(int)
    for memo in credits:
        if memo.invoice_external_id not in shares:
            continue
        opp, lines = shares[memo.invoice_external_id]
        weights = [max(amount, 0) for _, amount in lines]
        contra = parts[memo.external_id]["contra_revenue"]
        to_deferred = parts[memo.external_id]["deferred_revenue"]
        # The ledger takes a credit from deferred revenue in proportion to what each obligation
        # still had to recognize after the credit's date (docs/architecture.md, "Credits"); the
        # re-planned rows keep those proportions, so they tell each obligation's share.
        on = dated.get(memo.external_id, date.min)
        unearned = [_unearned(deals[opp], key, on) if key is not None else 0
                    for key, _ in lines]
        if sum(unearned) <= 0:
            # The credit took all that was unearned, so the re-planned rows are all zero: each
            # obligation with rows left had given up what it had not earned by the credit's day.
            unearned = [_unearned_before(deals[opp], key, on) if key is not None else 0
                        for key, _ in lines]
        deferred_weights = unearned if sum(unearned) > 0 else weights
        # Contra revenue is what the credit took beyond what was still deferred, so it belongs
        # to the obligations that had earned something by the credit's day, in that proportion.
        earned = [min(max(amount, 0), deals[opp].obligations[key].earned_by(on))
                  if key is not None else 0 for key, amount in lines]
        contra_weights = earned if sum(earned) > 0 else weights
        for (key, _), amount, c, d in zip(lines, allocate(memo.amount_minor, weights),
                                          allocate(contra, contra_weights),
                                          allocate(to_deferred, deferred_weights), strict=True):
            if key is None:
                unallocated[opp] += d
                continue
            ob = deals[opp].obligations[key]
            ob.credited += amount
            ob.credited_to_deferred += d
            if c:
                ob.contra.append((dated.get(memo.external_id, date.min), c))
    return unallocated


def _unearned_before(deal: Deal, key: Key, on: date) -> int:
    """What the obligation had left to recognize after `on` before any credit re-planned it."""
    ob = deal.obligations.get(key)
    if ob is None or not any(day > on for day, _ in ob.schedule):
        return 0
    return max(ob.price - sum(amount for day, amount in ob.schedule if day <= on), 0)


def _unearned(deal: Deal, key: Key, on: date) -> int:
    """What the obligation's schedule recognizes after `on`."""
    ob = deal.obligations.get(key)
    return sum(amount for day, amount in ob.schedule if day > on) if ob else 0


def _ledger_side(found: Found, deals: dict[str, Deal], books: LedgerBooks, erp: str) -> None:
    """Recognized revenue and deferred revenue per deal, and the account sides per currency."""
    by_line = {(o.order_external_id, o.line_external_id): (deal_of(o.order_external_id),
                                                            (o.product, o.recurring))
               for o in books.obligations}
    accounts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    untraced: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in books.postings:
        accounts[p.currency][p.role] += p.amount_minor
        deal = deals.get(deal_of(p.order_external_id)) if p.order_external_id else None
        if deal is None:
            if p.role in CHECKED:
                untraced[p.currency][p.role] += p.amount_minor
            continue
        found_line = by_line.get((p.order_external_id or "", p.line_external_id or ""))
        ob = deals[found_line[0]].obligations[found_line[1]] if found_line else None
        if p.role == "deferred_revenue":
            deal.deferred_in_ledger -= p.amount_minor
            if ob is not None and p.source in CLOSURES:
                ob.closed += p.amount_minor
        elif p.role == "revenue" and ob is not None:
            ob.recognized -= p.amount_minor
            if p.source == "invoice_void":  # revenue the void took back was never billed
                ob.invoiced -= p.amount_minor
    for cur, roles in sorted(accounts.items()):
        if -roles["deferred_revenue"] < -found.tolerance:
            found.add("deferred_revenue_debit",
                      f"Deferred Revenue ({cur}) has a debit balance of "
                      f"{money(roles['deferred_revenue'], cur)} in {erp}",
                      sides=(Side(erp, "Deferred Revenue account", -roles["deferred_revenue"],
                                  cur),), difference=-roles["deferred_revenue"], currency=cur)
        if roles["receivable"] < -found.tolerance:
            found.add("receivable_credit",
                      f"Accounts Receivable ({cur}) has a credit balance of "
                      f"{money(-roles['receivable'], cur)} in {erp}",
                      sides=(Side(erp, "Accounts Receivable account", roles["receivable"], cur),),
                      difference=roles["receivable"], currency=cur)
    for cur, roles in sorted(untraced.items()):
        for role, amount in sorted(roles.items()):
            if found.differs(amount, 0):
                found.add("untraced_posting",
                          f"{money(abs(amount), cur)} on {role.replace('_', ' ')} in {erp} "
                          "belongs to no sales order, invoice or schedule closebot can trace",
                          sides=(Side(erp, f"{role} postings without a source", amount, cur),),
                          difference=amount, currency=cur)


def _check_deal(found: Found, opp: str, name: str, deal: Deal, unallocated_credit: int,
                erp: str) -> None:
    cur = deal.currency
    explained = 0
    for (product, _), ob in sorted(deal.obligations.items()):
        explained += ob.deferred
        side = f"obligation {product}"
        # Judged as the re-plan left it: a negative catch-up waiting for the revenue run counts.
        if ob.deferred - ob.catch_up_due < -found.tolerance:
            found.add("deferred_revenue_debit",
                      f"{name}, {product}: {money(ob.recognized, cur)} recognized but only "
                      f"{money(ob.invoiced - ob.taken_back, cur)} invoiced net of "
                      f"credits, voids and write-offs; its deferred revenue is a debit balance of "
                      f"{money(-ob.deferred, cur)}", opp=opp,
                      sides=(Side(erp, f"{side}: recognized", ob.recognized, cur, opp),
                             Side(erp, f"{side}: invoiced net of credits to deferred revenue",
                                  ob.invoiced - ob.taken_back, cur, opp)),
                      difference=ob.deferred, currency=cur)
        # Revenue moved between obligations (relative SSP, or a contract modification re-planned
        # to its ASC 606 classification) moves the allocated price with the schedule: explained.
        moved = ob.price - ob.billed_price
        why = f" ({money(moved, cur)} allocated to it beyond what it bills)" if moved else ""
        found.compare("schedule_not_replanned",
                      Side(erp, f"{side}: revenue schedule", ob.scheduled, cur, opp),
                      Side(erp, f"{side}: price as allocated and re-planned, less credits, "
                           "voids and write-offs to deferred revenue", ob.price - ob.taken_back,
                           cur, opp),
                      f"{name}, {product}: the schedule plans {money(ob.scheduled, cur)} but the "
                      f"price net of credits is {money(ob.price - ob.taken_back, cur)}{why}",
                      opp=opp)
        if ob.recognized + ob.catch_up_due > ob.price + found.tolerance:
            found.add("recognized_over_price",
                      f"{name}, {product}: {money(ob.recognized, cur)} recognized, more than its "
                      f"price {money(ob.price, cur)}", opp=opp,
                      sides=(Side(erp, f"{side}: recognized", ob.recognized, cur, opp),
                             Side(erp, f"{side}: price", ob.price, cur, opp)),
                      difference=ob.recognized - ob.price, currency=cur)
        _contra_timing(found, opp, f"{name}, {product}", ob, cur, erp)
    rest = deal.deferred_in_ledger - explained + unallocated_credit
    if found.differs(deal.deferred_in_ledger, explained - unallocated_credit):
        found.add("deferred_revenue_unallocated",
                  f"{name}: {money(rest, cur)} of its deferred revenue belongs to no obligation "
                  "(tax, or an invoice amount no obligation itemizes) and will never be "
                  "recognized", opp=opp,
                  sides=(Side(erp, "deferred revenue of the deal's entries",
                              deal.deferred_in_ledger, cur, opp),
                         Side(erp, "deferred revenue of the deal's obligations", explained, cur,
                              opp)),
                  difference=rest, currency=cur)


def _contra_timing(found: Found, opp: str, product: str, ob: Obligation, cur: str,
                   erp: str) -> None:
    used = 0
    for day, amount in sorted(ob.contra):
        used += amount
        earned = ob.earned_by(day)
        if used > earned + found.tolerance:
            found.add("credit_to_revenue_unearned",
                      f"{product}: a credit on {day.isoformat()} took {money(used - earned, cur)}"
                      f" from revenue not yet earned (earned by then: {money(earned, cur)}); "
                      "that part belongs against deferred revenue", opp=opp,
                      sides=(Side(erp, f"obligation {product}: credits to contra revenue", used,
                                  cur, opp),
                             Side(erp, f"obligation {product}: earned by {day.isoformat()}",
                                  earned, cur, opp)),
                      difference=used - earned, currency=cur)
            return
