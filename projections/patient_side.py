"""The patient side as of a date: guarantor families, statement runs, delinquency, collections.

DOMAIN.md §8. A family is a guarantor and the accounts they guarantee (as the ledger's
``family_accounts`` sees them: the current guarantor). What the family owes is the sum of
the patient's share of every line; a line is *held* while any payer still owns part of the
same visit (insurance pending), and held lines are neither stated nor referred.

Rules, each with the defaults below (``StatementPolicy``, ``CollectionRule``):

- statement run: a balance due on lines not held; not within 30 days of the last statement;
  the guarantor's weekly cycle (one of four, from the account number) is this week's; no
  current payment plan; not placed with an agency.
- delinquent: a balance due whose last statement's due date has passed with no payment since.
- collection candidate: balance >= $25; the oldest line the patient owes aged >= 120 days
  from its first statement; >= 3 statements since the last payment with the final notice
  (dunning level >= 3) issued >= 30 days ago; no payment in 60 days; no current plan.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.ledger import AGENCY, PATIENT
from projections.reads import ReadModels, to_date

CYCLES = 4
MAX_DUNNING_LEVEL = 4


@dataclass(frozen=True)
class StatementPolicy:
    days_between: int = 30
    cycles: int = CYCLES


@dataclass(frozen=True)
class CollectionRule:
    min_balance_cents: int = 2_500
    min_age_days: int = 120
    min_statements: int = 3
    final_notice_level: int = 3
    days_since_final_notice: int = 30
    days_without_payment: int = 60


@dataclass
class PatientLine:
    line_id: str
    encounter_id: str
    account_no: str
    service_date: date
    cents: int
    first_statement_on: date | None
    held: bool


@dataclass
class Family:
    guarantor_account_no: str
    name: str
    members: list[str] = field(default_factory=list)
    lines: list[PatientLine] = field(default_factory=list)   # what the patient owes, > 0
    credit_cents: int = 0                                     # patient credits, magnitude
    statements: list[dict[str, Any]] = field(default_factory=list)
    last_payment_on: date | None = None
    plan: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None

    @property
    def balance_cents(self) -> int:
        """What a statement would ask for: the patient's lines less their credits."""
        return sum(line.cents for line in self.lines) - self.credit_cents

    @property
    def due_cents(self) -> int:
        """The balance on lines no payer still holds part of."""
        return sum(line.cents for line in self.lines if not line.held) - self.credit_cents

    @property
    def has_current_plan(self) -> bool:
        return self.plan is not None and self.plan["status"] == "current"

    @property
    def placed(self) -> bool:
        return self.referral is not None and self.referral["status"] == "placed"

    def dunning_statements(self) -> list[dict[str, Any]]:
        """Statements since the last patient payment: the current dunning sequence."""
        return [s for s in self.statements
                if self.last_payment_on is None or s["issued_on"] > self.last_payment_on]

    def summary(self) -> dict[str, Any]:
        last = self.statements[-1] if self.statements else None
        return {
            "guarantor_account_no": self.guarantor_account_no, "name": self.name,
            "balance_cents": self.balance_cents, "due_cents": self.due_cents,
            "statements": len(self.statements),
            "last_statement_on": last["issued_on"] if last else None,
            "dunning_level": last["dunning_level"] if last else 0,
            "last_payment_on": self.last_payment_on,
            "plan_status": self.plan["status"] if self.plan else None,
        }


def cycle_of(account_no: str, cycles: int = CYCLES) -> int:
    """The guarantor's weekly billing cycle: stable across runs and processes."""
    return zlib.crc32(account_no.encode()) % cycles


def cycle_on(as_of: date, cycles: int = CYCLES) -> int:
    return (as_of.toordinal() // 7) % cycles


def statement_decision(family: Family, as_of: date, policy: StatementPolicy,
                       all_cycles: bool = False) -> str | None:
    """None when the family gets a statement on `as_of`, else why not."""
    if family.balance_cents <= 0:
        return "no balance"
    if family.due_cents <= 0:
        return "insurance pending"
    if family.placed:
        return "placed with an agency"
    if family.has_current_plan:
        return "payment plan current"
    if family.statements and (
            as_of - family.statements[-1]["issued_on"]).days < policy.days_between:
        return f"statement issued within {policy.days_between} days"
    if not all_cycles and cycle_of(family.guarantor_account_no, policy.cycles) != cycle_on(
            as_of, policy.cycles):
        return f"billing cycle {cycle_of(family.guarantor_account_no, policy.cycles) + 1}"
    return None


def next_dunning_level(family: Family) -> int:
    return min(len(family.dunning_statements()) + 1, MAX_DUNNING_LEVEL)


def collection_decision(family: Family, as_of: date, rule: CollectionRule) -> str | None:
    """None when the family may be referred to collections on `as_of`, else why not."""
    if family.placed:
        return "already placed with an agency"
    if family.has_current_plan:
        return "payment plan current"
    if family.due_cents < rule.min_balance_cents:
        return f"balance due under {rule.min_balance_cents} cents"
    stated = [line.first_statement_on for line in family.lines
              if not line.held and line.first_statement_on is not None]
    if not stated or (as_of - min(stated)).days < rule.min_age_days:
        return f"no line {rule.min_age_days} days past its first statement"
    dunning = family.dunning_statements()
    if len(dunning) < rule.min_statements:
        return f"fewer than {rule.min_statements} statements since the last payment"
    finals = [s for s in dunning if s["dunning_level"] >= rule.final_notice_level]
    if not finals or (as_of - finals[-1]["issued_on"]).days < rule.days_since_final_notice:
        return f"final notice less than {rule.days_since_final_notice} days ago"
    if family.last_payment_on is not None and (
            as_of - family.last_payment_on).days < rule.days_without_payment:
        return f"paid within {rule.days_without_payment} days"
    return None


class PatientSide(ReadModels):
    """Families as of a date, and the statement, delinquency and collection rules on them."""

    def families(self, as_of: date) -> dict[str, Family]:
        on = as_of.isoformat()
        accounts = self.store.fetchall(
            "SELECT account_no, name, guarantor_account_no FROM rm_accounts")
        guarantor_of = {a: g for a, _, g in accounts}
        names = {a: n for a, n, _ in accounts}
        families: dict[str, Family] = {}

        def family_of(account_no: str) -> Family:
            g = guarantor_of.get(account_no, account_no)
            found = families.get(g)
            if found is None:
                found = families[g] = Family(g, names.get(g, ""))
            return found

        for account_no in guarantor_of:
            family_of(account_no).members.append(account_no)
        first_stated = {line: to_date(d) for line, d in self.store.fetchall(
            "SELECT line_id, MIN(issued_on) FROM rm_statement_lines WHERE issued_on <= ? "
            "GROUP BY line_id", (on,))}
        rows = self.store.fetchall(
            "SELECT p.account_no, p.encounter_id, p.line_id, p.party, SUM(p.bucket_delta), "
            "l.service_date FROM rm_postings p JOIN rm_lines l ON l.line_id = p.line_id "
            "WHERE p.effective_on <= ? GROUP BY p.account_no, p.encounter_id, p.line_id, "
            "p.party, l.service_date HAVING SUM(p.bucket_delta) <> 0", (on,))
        pending = {enc for _, enc, _, party, cents, _ in rows
                   if party not in (PATIENT, AGENCY) and cents > 0}
        for account_no, encounter_id, line_id, party, cents, service_date in rows:
            if party != PATIENT:
                continue
            family = family_of(account_no)
            if cents < 0:
                family.credit_cents -= int(cents)
            else:
                family.lines.append(PatientLine(
                    line_id, encounter_id, account_no, date.fromisoformat(service_date),
                    int(cents), first_stated.get(line_id), encounter_id in pending))
        for account_no, paid_on in self.store.fetchall(
                "SELECT account_no, MAX(effective_on) FROM rm_postings WHERE category = "
                "'payment' AND party IN ('PATIENT', 'AGENCY') AND amount_cents > 0 "
                "AND effective_on <= ? GROUP BY account_no", (on,)):
            family = family_of(account_no)
            paid = date.fromisoformat(paid_on)
            if family.last_payment_on is None or paid > family.last_payment_on:
                family.last_payment_on = paid
        for row in self._rows("statements", "issued_on <= ?", [on], "issued_on, statement_id"):
            family_of(row["account_no"]).statements.append({
                "statement_id": row["statement_id"], "issued_on": to_date(row["issued_on"]),
                "dunning_level": row["dunning_level"], "balance_cents": row["balance_cents"],
                "due_on": to_date(row["due_on"])})
        for row in self._rows("payment_plans", "starts_on <= ?", [on], "position"):
            family_of(row["account_no"]).plan = row
        for row in self._rows("referrals", "referred_on <= ?", [on], "position"):
            family_of(row["account_no"]).referral = row
        return families

    def statement_run(self, as_of: date, *, all_cycles: bool = False,
                      policy: StatementPolicy = StatementPolicy()) -> dict[str, Any]:
        """Who gets a statement on `as_of` (with the dunning level it would carry) and who
        is held back, and why. Issuing is the ledger's `issue_statement`."""
        candidates, held = [], []
        for family in sorted(self.families(as_of).values(),
                             key=lambda f: f.guarantor_account_no):
            why = statement_decision(family, as_of, policy, all_cycles)
            if why is None:
                candidates.append({**family.summary(),
                                   "next_dunning_level": next_dunning_level(family),
                                   "cycle": cycle_of(family.guarantor_account_no) + 1})
            elif family.balance_cents > 0:
                held.append({"guarantor_account_no": family.guarantor_account_no,
                             "balance_cents": family.balance_cents, "reason": why})
        return {"as_of": as_of, "cycle": None if all_cycles else cycle_on(as_of) + 1,
                "candidates": candidates, "held": held}

    def collection_candidates(self, as_of: date,
                              rule: CollectionRule = CollectionRule()) -> list[dict[str, Any]]:
        """Families the collection rule allows referring on `as_of` (DOMAIN.md §8)."""
        out = []
        for family in sorted(self.families(as_of).values(),
                             key=lambda f: f.guarantor_account_no):
            if collection_decision(family, as_of, rule) is not None:
                continue
            stated = [line.first_statement_on for line in family.lines
                      if not line.held and line.first_statement_on is not None]
            finals = [s for s in family.dunning_statements()
                      if s["dunning_level"] >= rule.final_notice_level]
            out.append({**family.summary(), "oldest_line_days": (as_of - min(stated)).days,
                        "final_notice_on": finals[-1]["issued_on"],
                        "dunning_statements": len(family.dunning_statements())})
        return out

    def delinquent(self, as_of: date) -> list[dict[str, Any]]:
        """Families whose last statement fell due with no payment since, for follow-up."""
        out = []
        for family in self.families(as_of).values():
            if family.due_cents <= 0 or family.placed or family.has_current_plan:
                continue
            if not family.statements:
                continue
            last = family.statements[-1]
            if last["due_on"] is None or last["due_on"] >= as_of:
                continue
            if family.last_payment_on is not None and family.last_payment_on >= last["issued_on"]:
                continue
            out.append({**family.summary(), "due_on": last["due_on"],
                        "days_past_due": (as_of - last["due_on"]).days})
        return sorted(out, key=lambda r: (-r["days_past_due"], r["guarantor_account_no"]))
