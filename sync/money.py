"""Exact money: integer minor units with an ISO 4217 currency. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 active codes and their minor-unit exponents (2 unless listed otherwise).
_ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
}
_THREE_DECIMAL = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_TWO_DECIMAL = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR",
    "ZMW", "ZWL",
}
CURRENCIES = frozenset(_ZERO_DECIMAL | _THREE_DECIMAL | _TWO_DECIMAL)


class MoneyError(ValueError):
    """An amount that can't be represented exactly in its currency."""


def is_known_currency(code: str) -> bool:
    return code.upper() in CURRENCIES


def exponent(currency: str) -> int:
    code = currency.upper()
    if code not in CURRENCIES:
        raise MoneyError(f"unknown currency {currency!r}")
    if code in _ZERO_DECIMAL:
        return 0
    return 3 if code in _THREE_DECIMAL else 2


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Exact conversion to minor units; fractions of a minor unit are an error, not a rounding."""
    if isinstance(amount, float):
        raise MoneyError("money must not be a float")
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{value} has more decimals than {currency.upper()} allows")
    return int(scaled)


def round_to_minor(amount: Decimal, currency: str) -> int:
    """Half-up rounding to minor units, for computed values such as discounts."""
    return int(amount.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int, currency: str) -> str:
    """`USD 120,000.00` — unambiguous for finance readers across currencies."""
    exp = exponent(currency)
    value = from_minor(minor, currency)
    return f"{currency.upper()} {value:,.{exp}f}"


def format_amount(value: Decimal, currency: str | None) -> str:
    """A decimal amount written like `format_money`; an amount too precise for its currency (or
    with no known currency) keeps every digit it has, since that is what is wrong with it."""
    code = (currency or "").upper()
    if not is_known_currency(code):
        return f"{value:,f}"
    exp = exponent(code)
    scaled = value.scaleb(exp)
    if scaled == scaled.to_integral_value():
        return f"{code} {value:,.{exp}f}"
    return f"{code} {value:,f}"


def split_evenly(total: int, parts: int) -> list[int]:
    """Split minor units into `parts` amounts that differ by at most one and add back to `total`."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, remainder = divmod(total, parts)
    shares = [base + (1 if i < remainder else 0) for i in range(parts)]
    assert sum(shares) == total
    return shares


def prorate(amount: int, part: int, whole: int) -> int:
    """`amount * part / whole`, rounded half up (half away from zero for a negative amount):
    Stripe's proration of one item over the time left in its period."""
    if whole <= 0:
        return amount
    sign = -1 if amount < 0 else 1
    return sign * ((2 * abs(amount) * part + whole) // (2 * whole))
