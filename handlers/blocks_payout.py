"""`/payout` answers: each payout's breakdown and its bank match status."""

from __future__ import annotations

from typing import Any

from handlers import strings
from handlers.blocks import context, header, message, section
from handlers.blocks_invoice import ephemeral
from sync.money import format_money
from sync.ops.payouts import PayoutAnswer, PayoutView


def payout_message(answer: PayoutAnswer) -> dict[str, Any]:
    if not answer.found:
        text = strings.PAYOUT_NONE.format(query=answer.query)
        return ephemeral(text, message([section(text)]))
    blocks = []
    for view in answer.found:
        blocks += _one(view)
    title = _title(answer.found[0])
    return ephemeral(title, message(blocks[:50]))


def _title(view: PayoutView) -> str:
    p = view.payout
    return strings.PAYOUT_TITLE.format(id=p.id, amount=format_money(p.amount_minor, p.currency),
                                       arrival=p.arrival_date, status=p.status)


def _one(view: PayoutView) -> list[Any]:
    b, p = view.breakdown, view.payout
    amounts = {"gross": b.gross_minor, "refunds": b.refunds_minor, "fees": -b.fees_minor,
               "disputes": b.disputes_minor, "other": b.other_minor, "net": b.net_minor}
    fields = [f"*{label}*\n{format_money(amounts[key], b.currency)}"
              for label, key in strings.PAYOUT_LINES if key in ("gross", "fees", "net")
              or amounts[key]]
    money = {"count": b.transactions, "net": format_money(b.net_minor, b.currency),
             "amount": format_money(p.amount_minor, p.currency),
             "diff": format_money(b.net_minor - p.amount_minor, p.currency)}
    check = (strings.PAYOUT_ADDS_UP if view.adds_up else strings.PAYOUT_OFF).format(**money)
    bank = strings.PAYOUT_BANK[view.bank.state].format(
        posted_on=view.bank.posted_on, line=view.bank.line_key, how=view.bank.how,
        covered=view.bank.covered_through or "no statement yet", status=p.status)
    return [header(_title(view)), section("", fields=fields), context(check), section(bank)]
