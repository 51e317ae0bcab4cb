"""`/ar-aging` answers: each currency's buckets, then the customers owing the most."""

from __future__ import annotations

from typing import Any

from handlers import strings
from handlers.blocks import context, header, message, section
from handlers.blocks_invoice import ephemeral
from sync.money import format_money
from sync.ops.aging import BUCKETS, Aging

SHOWN = 15  # customers listed; the chart and `closebot books ar-aging` have them all


def aging_message(aging: Aging) -> dict[str, Any]:
    title = strings.AGING_TITLE.format(as_of=aging.as_of)
    if not aging.totals:
        text = (strings.AGING_NONE_FOR.format(customer=aging.customer) if aging.customer
                else strings.AGING_NONE)
        return ephemeral(text, message([section(text)]))
    blocks: list[Any] = [header(title)]
    for currency, row in aging.totals.items():
        fields = [f"*{b}*\n{format_money(row[b], currency)}" for b in BUCKETS]
        fields.append(f"*total*\n{format_money(sum(row.values()), currency)}")
        blocks.append(section(strings.AGING_CURRENCY.format(currency=currency), fields=fields))
    owing = sorted(aging.customers.items(), key=lambda kv: -sum(kv[1].values()))
    lines = [f"• {name}: {format_money(sum(row.values()), currency)}"
             + (f" ({format_money(row['90+'], currency)} over 90 days)" if row["90+"] else "")
             for (name, currency), row in owing[:SHOWN]]
    blocks.append(section("\n".join(lines)))
    if len(owing) > SHOWN:
        blocks.append(context(strings.AGING_MORE.format(count=len(owing) - SHOWN)))
    return ephemeral(title, message(blocks))
