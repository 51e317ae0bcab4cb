"""Tax rates (`txr_…`) and the tax they put on invoice lines.

As Stripe documents (Tax rates, and the invoice's `total_taxes` / the line's `taxes`): a rate
applies to a line through the line's own rates (its subscription item's or invoice item's
`tax_rates`) or, when it has none, the invoice's `default_tax_rates`; a subscription's invoices
take their `default_tax_rates` from the subscription. Each line gets one `taxes` entry per rate
(`type: tax_rate_details`). Exclusive tax comes on top of the line (`total` = subtotal +
exclusive tax); inclusive tax is already inside the line amount (`total_excluding_tax` =
subtotal - inclusive tax). Tax is computed per line and rate, rounded half up to the minor unit;
`total_taxes` adds the lines' entries up per rate. At most ten rates per line, as Stripe allows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandbox.stripe.listing import paginate
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State
from sandbox.stripe.wire import StripeError, invalid, merge_metadata, require

_FIELDS = {"display_name": "str", "description": "str", "jurisdiction": "str", "state": "str",
           "country": "str", "tax_type": "str", "metadata": "meta", "active": "bool"}
CREATE_SPEC = {**_FIELDS, "percentage": "str", "inclusive": "bool"}
UPDATE_SPEC = _FIELDS
LIST_SPEC = {"limit": "int", "starting_after": "str", "ending_before": "str", "created": "range",
             "active": "bool", "inclusive": "bool"}
MAX_RATES = 10


def _percentage(value: str) -> Decimal:
    try:
        pct = Decimal(value)
    except InvalidOperation:
        raise StripeError(400, f"Invalid decimal: {value}", code="parameter_invalid_decimal",
                          param="percentage", replayable=False) from None
    if not pct.is_finite() or pct < 0 or pct > 100:
        raise invalid("The percentage must be between 0 and 100.", param="percentage")
    return pct


def create_tax_rate(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "display_name", "percentage", "inclusive")
    pct = _percentage(p["percentage"])
    txr = build(
        "tax_rate", id=new_id("tax_rate"), created=st.now, display_name=p["display_name"],
        description=p.get("description"), jurisdiction=p.get("jurisdiction"),
        state=p.get("state"), country=p.get("country"), tax_type=p.get("tax_type"),
        inclusive=p["inclusive"], active=p.get("active", True), percentage=float(pct),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
        # Only Stripe Tax fills these in; a rate made through the API has none.
        effective_percentage=None, flat_amount=None, rate_type=None, jurisdiction_level=None,
    )
    st.private(txr["id"])["percentage"] = pct
    st.add(txr)
    st.emit("tax_rate.created", txr)
    return txr


def update_tax_rate(st: State, txr_id: str, p: dict[str, Any]) -> dict[str, Any]:
    txr = st.get("tax_rate", txr_id)
    for key in ("display_name", "description", "jurisdiction", "state", "country", "tax_type",
                "active"):
        if key in p:
            txr[key] = p[key]
    txr["metadata"] = merge_metadata(txr["metadata"], p.get("metadata"))
    st.emit("tax_rate.updated", txr)
    return txr


def list_tax_rates(st: State, p: dict[str, Any]) -> dict[str, Any]:
    rows = st.all("tax_rate")
    for key in ("active", "inclusive"):
        if p.get(key) is not None:
            rows = [r for r in rows if r[key] == p[key]]
    return paginate(rows, p, "/v1/tax_rates")


def resolve(st: State, ids: list[str] | None, param: str) -> list[dict[str, Any]]:
    """The tax rate objects named by `ids` (Stripe embeds whole rates, not their ids)."""
    ids = ids or []
    if len(ids) > MAX_RATES:
        raise invalid(f"You can apply at most {MAX_RATES} tax rates.", param=param)
    return [st.get("tax_rate", txr_id, param=f"{param}[{i}]") for i, txr_id in enumerate(ids)]


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def line_taxes(st: State, amount: int, rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `taxes` of a line of `amount` under `rates`."""
    pct = {r["id"]: st.private(r["id"]).get("percentage", Decimal(str(r["percentage"])))
           for r in rates}
    inclusive = [r for r in rates if r["inclusive"]]
    # Inclusive rates share one base: the amount with all of them taken out; their taxes add up
    # to exactly what was taken out (the last one takes the rounding).
    base = _round(Decimal(amount) / (1 + sum((pct[r["id"]] for r in inclusive), Decimal(0))
                                     / 100)) if inclusive else amount
    amounts = {r["id"]: _round(Decimal(base) * pct[r["id"]] / 100) for r in rates}
    if inclusive:
        last = inclusive[-1]["id"]
        amounts[last] += amount - base - sum(amounts[r["id"]] for r in inclusive)
    return [
        {"amount": amounts[r["id"]],
         "tax_behavior": "inclusive" if r["inclusive"] else "exclusive",
         "tax_rate_details": {"tax_rate": r["id"]}, "taxability_reason": "standard_rated",
         "taxable_amount": base, "type": "tax_rate_details"}
        for r in rates
    ]


def apply_taxes(st: State, inv: dict[str, Any]) -> tuple[int, int]:
    """Fill each line's `taxes` and the invoice's `total_taxes`; returns (exclusive, inclusive)."""
    defaults = inv.get("default_tax_rates") or []
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for line in inv["lines"]["data"]:
        own = st.private(line["id"]).get("tax_rates")
        rates = [st.get("tax_rate", i) for i in own] if own else defaults
        line["taxes"] = line_taxes(st, line["amount"], rates)
        for tax in line["taxes"]:
            key = (tax["tax_rate_details"]["tax_rate"], tax["tax_behavior"])
            if key in totals:
                totals[key]["amount"] += tax["amount"]
                totals[key]["taxable_amount"] += tax["taxable_amount"]
            else:
                totals[key] = dict(tax, tax_rate_details=dict(tax["tax_rate_details"]))
    inv["total_taxes"] = list(totals.values())
    exclusive = sum(t["amount"] for t in totals.values() if t["tax_behavior"] == "exclusive")
    return exclusive, sum(t["amount"] for t in totals.values()) - exclusive
