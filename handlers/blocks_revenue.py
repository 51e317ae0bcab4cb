"""`/revenue` answers: the RPO per currency, the months ahead summed over every contract, then
the contracts with the most still to recognize."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import context, header, message, section
from handlers.blocks_invoice import ephemeral
from sync.ledger.waterfall import Waterfall
from sync.money import format_money

MONTHS = 6  # month columns summed in the answer; the chart and the CLI show all of them
SHOWN = 10  # contracts listed


def revenue_message(chart: Waterfall) -> dict[str, Any]:
    title = strings.REVENUE_TITLE.format(as_of=chart.as_of)
    if not chart.rows:
        return ephemeral(strings.REVENUE_NONE, message([section(strings.REVENUE_NONE)]))
    blocks: list[Block] = [header(title)]
    columns = [*chart.columns[:MONTHS], *chart.columns[-2:]]  # then "later", "awaiting delivery"
    for rpo in chart.rpo:
        rows = [r for r in chart.rows if r.currency == rpo.currency]
        sums = {c: sum(r.cells.get(c, 0) for r in rows) for c in chart.columns}
        sums[columns[-2]] += sum(sums[c] for c in chart.columns[MONTHS:-2])  # beyond the shown
        blocks.append(section(
            strings.REVENUE_RPO.format(
                currency=rpo.currency, total=format_money(rpo.total, rpo.currency),
                current=format_money(rpo.current, rpo.currency),
                non_current=format_money(rpo.non_current, rpo.currency)),
            fields=[f"*{c}*\n{format_money(sums[c], rpo.currency)}" for c in columns
                    if sums[c] or c[:4].isdigit()][:10]))
    lines = [f"• {r.contract} ({r.customer}): {format_money(r.total, r.currency)}"
             for r in chart.rows[:SHOWN]]
    blocks.append(section("\n".join(lines)))
    if len(chart.rows) > SHOWN:
        blocks.append(context(strings.REVENUE_MORE.format(count=len(chart.rows) - SHOWN)))
    return ephemeral(title, message(blocks))
