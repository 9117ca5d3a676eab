"""Money as integer cents: parsing, formatting, allocation and the one rate calculation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import NewType

Cents = NewType("Cents", int)

# X12 type R counts digits only (sign and decimal point excluded), max 18 (DE 782).
_MAX_DIGITS = 18
# Read models sum amounts in SQLite INTEGER columns, which are int64.
INT64_MAX = _INT64_MAX = 2**63 - 1
# ASCII only: `\d` would also accept Arabic-Indic and other Unicode digits.
_AMOUNT = re.compile(r"(-?)([0-9]*)(?:\.([0-9]+))?", re.ASCII)


class AmountError(ValueError):
    """Text that is not an exact amount of cents."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"not a valid amount: {text!r} ({reason})")
        self.text = text
        self.reason = reason


def cents_from_text(text: str) -> Cents:
    """Parse an X12 'R' amount or typed input ("150", "150.5", "-20.00", ".5") into exact cents.

    Accepted: an optional leading minus, digits, and an optional decimal point followed by at
    least one digit. Digits beyond the second decimal are accepted only when they are zeros
    ("12.300"), because they lose nothing; a non-zero sub-cent digit ("1.005") is refused
    rather than rounded. Refused as well: a plus sign, thousands separators, any whitespace
    (callers strip typed input), exponents ("1E3"), NaN/Infinity, more than 18 digits, and
    amounts beyond int64 cents. Never touches float.
    """
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise AmountError(text, "expected digits with an optional minus sign and decimal point")
    sign, whole, fraction = match.groups()
    if not whole and not fraction:
        raise AmountError(text, "no digits")
    if len(whole) + len(fraction or "") > _MAX_DIGITS:
        raise AmountError(text, f"more than {_MAX_DIGITS} digits")
    fraction = fraction or ""
    if fraction[2:].strip("0"):
        raise AmountError(text, "sub-cent amount")
    magnitude = int(whole or "0") * 100 + int(fraction[:2].ljust(2, "0"))
    if magnitude > _INT64_MAX:
        raise AmountError(text, "too large")
    return Cents(-magnitude if sign else magnitude)


def cents_from_x12(text: str) -> Cents:
    """Parse an amount read from an X12 file: `cents_from_text`, with at most two decimals.

    DOMAIN.md §2 refuses more than two decimals in X12, zeros included ("78.50" yes, "78.500"
    no): a translator writes cents, so a third decimal says the amounts are not what we think
    they are. Typed input stays as lenient as `cents_from_text` (trailing zeros lose nothing).
    """
    cents = cents_from_text(text)
    if len(text.partition(".")[2]) > 2:
        raise AmountError(text, "more than 2 decimals")
    return cents


def format_x12_amount(amount: Cents) -> str:
    """Format cents in X12 'R' minimal form: 15000 → "150", 15050 → "150.5", 5 → ".05".

    X12.6 says to suppress leading zeros and trailing fractional zeros, and to omit the
    decimal point for whole amounts; hence ".05" rather than "0.05".
    """
    sign = "-" if amount < 0 else ""
    dollars, cents = divmod(abs(amount), 100)
    whole = str(dollars) if dollars or not cents else ""
    fraction = f".{cents:02d}".rstrip("0") if cents else ""
    return f"{sign}{whole}{fraction}"


def format_usd(amount: Cents) -> str:
    """Format cents for people: "$1,234.50", "-$20.00"."""
    dollars, cents = divmod(abs(amount), 100)
    return f"{'-' if amount < 0 else ''}${dollars:,}.{cents:02d}"


def format_plain(amount: Cents) -> str:
    """Format cents for CSV and forms: "1234.50", "-20.00"."""
    dollars, cents = divmod(abs(amount), 100)
    return f"{'-' if amount < 0 else ''}{dollars}.{cents:02d}"


def allocate(total: Cents, weights: Sequence[int]) -> list[Cents]:
    """Split `total` in proportion to `weights` by largest remainder; the parts sum to `total`.

    Each part is within one cent of its exact proportional share. Ties for the leftover
    cents go to the earlier weight, so the result is deterministic. A negative total is
    split as its absolute value and negated, so the rounding mirrors the positive case.
    Zero weights get 0. Raises ValueError for a negative weight, or when a non-zero total
    has no positive weight to go to.
    """
    if any(weight < 0 for weight in weights):
        raise ValueError(f"weights must not be negative: {list(weights)}")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total != 0:
            raise ValueError(f"cannot allocate {total} cents over zero weights")
        return [Cents(0) for _ in weights]
    magnitude = abs(total)
    shares = [divmod(magnitude * weight, weight_sum) for weight in weights]
    parts = [quotient for quotient, _ in shares]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda index: -shares[index][1])
    for index in by_remainder[:leftover]:
        parts[index] += 1
    sign = -1 if total < 0 else 1
    return [Cents(sign * part) for part in parts]


def apply_rate(amount: Cents, rate: Decimal) -> Cents:
    """Multiply an amount by a rate and round to the cent: the only place rate maths happens.

    `rate` is a fraction: Decimal("0.20") is 20 % coinsurance, Decimal("1.10") is 110 % of
    Medicare. Rounding is ROUND_HALF_UP to whole cents, where a tie rounds away from zero, so
    apply_rate(Cents(5), Decimal("0.5")) == 3 and apply_rate(Cents(-5), Decimal("0.5")) == -3.
    Raises TypeError for a float rate (binary fractions are inexact) and ValueError for a
    negative or non-finite rate.
    """
    if not isinstance(rate, Decimal):
        raise TypeError(f"rate must be a Decimal, not {type(rate).__name__}")
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"rate must be a finite, non-negative Decimal: {rate}")
    # A private context: the product must be exact whatever precision a caller has set.
    with localcontext() as context:
        context.prec = 60
        product = Decimal(amount) * rate
        return Cents(int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
