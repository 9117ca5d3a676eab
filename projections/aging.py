"""A/R aging: which bucket a balance falls in, and the aging report as a pure function.

DOMAIN.md §7. The age of a balance is ``as_of - basis date`` in days; the buckets are
``0-30``, ``31-60``, ``61-90``, ``91-120`` and ``121+`` with inclusive upper bounds, so a
balance 30 days old is still in ``0-30`` and one 121 days old is the first in ``121+``.

The basis date is per charge line:

``dos``
    the line's date of service (the default: it cannot be reset by rebilling);
``billed``
    the first date any claim holding the line was submitted, else the date of service;
``statement``
    the first statement that listed the line, else the date of service.

Balances are taken per line and responsible party (a payer id, ``PATIENT`` or ``AGENCY``)
and split into insurance, patient and agency columns. A negative line-party balance is a
credit: it is summed apart in ``credit_cents`` (a positive magnitude) and never netted
against what others owe in the buckets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.ledger import AGENCY, PATIENT

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "121+")
_UPPER = (30, 60, 90, 120)
BASES = ("dos", "billed", "statement")
GROUPINGS = ("payer", "plan")
COLUMNS = ("insurance_cents", "patient_cents", "agency_cents")


def age_days(basis_on: date, as_of: date) -> int:
    return (as_of - basis_on).days


def aging_bucket(basis_on: date, as_of: date) -> str:
    """The bucket of a balance whose basis date is `basis_on`, seen on `as_of`."""
    age = age_days(basis_on, as_of)
    for name, upper in zip(BUCKETS, _UPPER, strict=False):
        if age <= upper:
            return name
    return BUCKETS[-1]


def party_column(party: str) -> str:
    if party == PATIENT:
        return "patient_cents"
    if party == AGENCY:
        return "agency_cents"
    return "insurance_cents"


@dataclass(frozen=True)
class LineBalance:
    """What one party owes on one line, with the line's basis date for aging."""

    line_id: str
    party: str
    plan_id: str
    basis_on: date
    cents: int


def empty_buckets() -> dict[str, dict[str, int]]:
    return {name: dict.fromkeys(COLUMNS, 0) for name in BUCKETS}


def _group_key(balance: LineBalance, by: str) -> str:
    if by == "plan" and balance.party not in (PATIENT, AGENCY):
        return balance.plan_id or balance.party
    return balance.party


def aging_report(balances: Iterable[LineBalance], as_of: date, basis: str = "dos",
                 by: str | None = None) -> dict[str, Any]:
    """The report of DOMAIN.md §7 from line-party balances; no I/O, no clock."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}")
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    buckets = empty_buckets()
    total = credit = 0
    groups: dict[str, dict[str, Any]] = {}
    for b in balances:
        group = None
        if by is not None:
            key = _group_key(b, by)
            group = groups.get(key)
            if group is None:
                group = groups[key] = {f"{by}_id": key, "total_cents": 0, "credit_cents": 0,
                                       "buckets": empty_buckets()}
        if b.cents < 0:
            credit -= b.cents
            if group is not None:
                group["credit_cents"] -= b.cents
            continue
        if b.cents == 0:
            continue
        bucket, column = aging_bucket(b.basis_on, as_of), party_column(b.party)
        buckets[bucket][column] += b.cents
        total += b.cents
        if group is not None:
            group["buckets"][bucket][column] += b.cents
            group["total_cents"] += b.cents
    return {"as_of": as_of, "basis": basis, "total_cents": total, "credit_cents": credit,
            "buckets": buckets, "by": [groups[k] for k in sorted(groups)]}
