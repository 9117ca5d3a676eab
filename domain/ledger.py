"""How each money event moves a line's balance and responsibility buckets; its journal entry.

Every money event is about one charge line. Its *postings* say, per responsible party
(a payer id, ``PATIENT`` or ``AGENCY``), how the party's share of the line moves and which
balance component (charge, payment, adjustment, refund, transfer) it belongs to. The line
balance is ``charges - payments - adjustments + refunds``; the buckets always sum to it
because every posting moves exactly one bucket by the same signed amount. Aggregates and
projections share these functions so the write side and every read model agree by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PATIENT = "PATIENT"
AGENCY = "AGENCY"
RESERVED_PARTIES = frozenset({PATIENT, AGENCY})

MONEY_EVENTS = frozenset({
    "ChargeEntered", "PaymentPosted", "AdjustmentPosted", "ResponsibilityTransferred",
    "RefundIssued", "EntryReversed",
})


class Category(StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    TRANSFER = "transfer"


# Sign of a category's amount in the line balance.
BALANCE_SIGN = {Category.CHARGE: 1, Category.PAYMENT: -1, Category.ADJUSTMENT: -1,
                Category.REFUND: 1, Category.TRANSFER: 0}


class AdjustmentKind(StrEnum):
    """Why a balance was reduced without money: payer adjustments and our own write-offs."""

    CONTRACTUAL = "contractual"          # CO write-off by the rule table
    PAYER = "payer"                      # other payer adjustments posted as write-offs
    DENIAL_WRITE_OFF = "denial-write-off"
    DISCOUNT = "discount"                # self-pay, prompt-pay, sliding scale
    SMALL_BALANCE = "small-balance"
    BAD_DEBT = "bad-debt"
    ADMINISTRATIVE = "administrative"
    TIMELY_FILING = "timely-filing"
    CHARITY = "charity"


@dataclass(frozen=True)
class Posting:
    line_id: str
    party: str
    category: Category
    amount_cents: int   # in the category's own sense: a payment of 80.00 is +8000
    bucket_delta: int   # how the party's share of the line moves

    @property
    def balance_delta(self) -> int:
        return BALANCE_SIGN[self.category] * self.amount_cents

    def negated(self) -> Posting:
        return Posting(self.line_id, self.party, self.category, -self.amount_cents,
                       -self.bucket_delta)

    def as_dict(self) -> dict[str, Any]:
        return {"line_id": self.line_id, "party": self.party, "category": str(self.category),
                "amount_cents": self.amount_cents, "bucket_delta": self.bucket_delta}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Posting:
        return cls(data["line_id"], data["party"], Category(data["category"]),
                   int(data["amount_cents"]), int(data["bucket_delta"]))


def postings_of(event_name: str, data: Mapping[str, Any]) -> list[Posting]:
    """The postings of a money event given its name and attributes ([] for other events)."""
    line_id = data.get("line_id", "")
    if event_name == "ChargeEntered":
        amount = int(data["charge_cents"])
        return [Posting(line_id, data["party"], Category.CHARGE, amount, amount)]
    if event_name == "PaymentPosted":
        amount = int(data["amount_cents"])
        return [Posting(line_id, data["party"], Category.PAYMENT, amount, -amount)]
    if event_name == "AdjustmentPosted":
        amount = int(data["amount_cents"])
        return [Posting(line_id, data["party"], Category.ADJUSTMENT, amount, -amount)]
    if event_name == "RefundIssued":
        amount = int(data["amount_cents"])
        return [Posting(line_id, data["party"], Category.REFUND, amount, amount)]
    if event_name == "ResponsibilityTransferred":
        amount = int(data["amount_cents"])
        return [Posting(line_id, data["from_party"], Category.TRANSFER, amount, -amount),
                Posting(line_id, data["to_party"], Category.TRANSFER, amount, amount)]
    if event_name == "EntryReversed":
        return [Posting.from_dict(p) for p in data["postings"]]
    return []


def event_postings(event: Any) -> list[Posting]:
    """Postings of a stored domain event object."""
    name = type(event).__name__
    if name not in MONEY_EVENTS:
        return []
    return postings_of(name, event.__dict__)


# -- double entry ------------------------------------------------------------------------

class LedgerAccount(StrEnum):
    AR_INSURANCE = "AR_INSURANCE"
    AR_PATIENT = "AR_PATIENT"
    AR_AGENCY = "AR_AGENCY"
    CASH = "CASH"
    REVENUE = "REVENUE"
    CONTRACTUAL_ALLOWANCE = "CONTRACTUAL_ALLOWANCE"
    BAD_DEBT = "BAD_DEBT"
    DISCOUNTS = "DISCOUNTS"
    OTHER_ADJUSTMENTS = "OTHER_ADJUSTMENTS"


class UnbalancedEntryError(AssertionError):
    pass


@dataclass(frozen=True)
class JournalLine:
    account: LedgerAccount
    amount_cents: int   # debit +, credit -


@dataclass(frozen=True)
class JournalEntry:
    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        if len(self.lines) < 2 or sum(x.amount_cents for x in self.lines) != 0:
            raise UnbalancedEntryError(self.lines)


def receivable_account(party: str) -> LedgerAccount:
    if party == PATIENT:
        return LedgerAccount.AR_PATIENT
    if party == AGENCY:
        return LedgerAccount.AR_AGENCY
    return LedgerAccount.AR_INSURANCE


_ADJUSTMENT_ACCOUNTS = {
    AdjustmentKind.CONTRACTUAL: LedgerAccount.CONTRACTUAL_ALLOWANCE,
    AdjustmentKind.BAD_DEBT: LedgerAccount.BAD_DEBT,
    AdjustmentKind.DISCOUNT: LedgerAccount.DISCOUNTS,
    AdjustmentKind.CHARITY: LedgerAccount.DISCOUNTS,
}


def journal_entry_for(event_name: str, data: Mapping[str, Any]) -> JournalEntry | None:
    """The double-entry view of a money event; None for events that move no money."""
    postings = postings_of(event_name, data)
    if not postings:
        return None
    lines: list[JournalLine] = []
    kind = data.get("kind")
    for p in postings:
        ar = receivable_account(p.party)
        amount = p.amount_cents
        if p.category is Category.CHARGE:
            lines += [JournalLine(ar, amount), JournalLine(LedgerAccount.REVENUE, -amount)]
        elif p.category is Category.PAYMENT:
            lines += [JournalLine(LedgerAccount.CASH, amount), JournalLine(ar, -amount)]
        elif p.category is Category.ADJUSTMENT:
            other = _ADJUSTMENT_ACCOUNTS.get(AdjustmentKind(kind) if kind else
                                             AdjustmentKind.PAYER,
                                             LedgerAccount.OTHER_ADJUSTMENTS)
            lines += [JournalLine(other, amount), JournalLine(ar, -amount)]
        elif p.category is Category.REFUND:
            lines += [JournalLine(ar, amount), JournalLine(LedgerAccount.CASH, -amount)]
        else:
            lines.append(JournalLine(ar, p.bucket_delta))
    if all(line.amount_cents == 0 for line in lines):
        return None
    merged: dict[LedgerAccount, int] = {}
    for line in lines:
        merged[line.account] = merged.get(line.account, 0) + line.amount_cents
    kept = tuple(JournalLine(a, c) for a, c in merged.items() if c != 0)
    return JournalEntry(kept) if kept else None
