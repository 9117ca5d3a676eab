"""How the workstation shows money, dates, masked identifiers and parties.

Formatting only: amounts arrive as integer cents from the ledger or the read models and
leave as text. No sums, no splits; those belong to domain/ and projections/.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.money import Cents, format_plain, format_usd

MASK = "•"


def usd(cents: Any) -> str:
    """'$1,234.50' for cents; an em dash for a missing figure."""
    if cents is None or cents == "":
        return "—"
    return format_usd(Cents(int(cents)))


def plain(cents: Any) -> str:
    """'1234.50' for forms that prefill an amount."""
    return format_plain(Cents(int(cents)))


def day(value: Any) -> str:
    """An ISO date for a date, a datetime or an ISO string; '' for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def moment(value: Any) -> str:
    """'2025-03-10 14:02' for when an event was recorded."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text[:16].replace("T", " ")


def mask(text: Any, keep: int = 4, revealed: bool = False) -> str:
    """'•••••6789': identifiers (member ids, birth dates) stay hidden until revealed."""
    value = "" if text is None else str(text)
    if revealed or not value:
        return value
    shown = value[-keep:] if keep and len(value) > keep else ""
    return MASK * (len(value) - len(shown)) + shown


def mask_date(value: Any, revealed: bool = False) -> str:
    """A birth date shows only its year until revealed: '••••-••-•• (1980)'."""
    text = day(value)
    if revealed or not text:
        return text
    return f"{MASK * 4}-{MASK * 2}-{MASK * 2} ({text[:4]})"


def party_name(party: str, payers: dict[str, str] | None = None) -> str:
    """A responsible party for people: the payer's name when known, else its id."""
    if payers and party in payers:
        return payers[party]
    return {"PATIENT": "Patient", "AGENCY": "Agency"}.get(party, party)


def ellipsize(text: Any, width: int) -> str:
    value = "" if text is None else str(text)
    return value if len(value) <= width else value[: max(0, width - 1)] + "…"
