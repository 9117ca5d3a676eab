"""Use cases on the patient side: statements, payment plans, collection referral and recovery.

A referral follows the gross method of DOMAIN.md §8: the patient balance moves to the
agency and is written off as bad debt (A/R goes to zero, the placed amount is kept as a
memo on the account). An agency recovery reverses that much of the write-off and posts the
agency's payment (net zero on the balance); its fee is an expense outside A/R. A recall
reverses the write-off of what is left and hands it back to the patient.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.encounter import Encounter
from domain.errors import RuleViolation
from domain.ledger import AGENCY, PATIENT, AdjustmentKind
from domain.patient_account import PatientAccount
from domain.services.core import command
from domain.services.payments import PaymentCommands
from domain.services.practice import require

MAX_DUNNING_LEVEL = 4
PLAN_MAX_DAYS = 366
STATEMENT_DUE_DAYS = 30


class CollectionCommands(PaymentCommands):
    def patient_lines(self, guarantor_account_no: str) -> list[tuple[Encounter, str, int]]:
        return [(e, line_id, e.party_balance(line_id, PATIENT))
                for e in self.family_encounters(guarantor_account_no) for line_id in e.lines
                if e.party_balance(line_id, PATIENT) > 0]

    @command
    def issue_statement(self, guarantor_account_no: str,
                        issued_on: date | None = None) -> str:
        issued_on = issued_on or self.today()
        guarantor = self._get(PatientAccount, guarantor_account_no)
        lines = self.patient_lines(guarantor_account_no)
        balance = sum(cents for _, _, cents in lines) - self.credit_cents(guarantor_account_no)
        if balance <= 0:
            raise RuleViolation(f"account {guarantor_account_no} has no patient balance due")
        encounters = list(self.family_encounters(guarantor_account_no))
        last_paid = max((e.last_patient_payment_on for e in encounters
                         if e.last_patient_payment_on), default=None)
        prior = [s for s in guarantor.statements
                 if last_paid is None or s["issued_on"] > last_paid]
        # DOMAIN §8: a current payment plan suppresses dunning; it resumes on default.
        level = 1 if guarantor.has_current_plan else min(len(prior) + 1, MAX_DUNNING_LEVEL)
        statement_id = f"S{guarantor_account_no}{len(guarantor.statements) + 1:03d}"
        detail = [{"encounter_id": e.encounter_id, "line_id": line_id,
                   "service_date": e.line(line_id)["service_date"],
                   "code": e.line(line_id)["code"],
                   "description": e.line(line_id)["description"],
                   "charge_cents": e.line(line_id)["charge_cents"],
                   "patient_cents": cents} for e, line_id, cents in lines]
        guarantor.issue_statement(statement_id, issued_on, level, balance,
                                  issued_on + timedelta(days=STATEMENT_DUE_DAYS), detail)
        self._save(guarantor)
        return statement_id

    @command
    def agree_payment_plan(
        self, guarantor_account_no: str, installment_cents: int, *, frequency_days: int = 30,
        starts_on: date | None = None, total_cents: int | None = None,
        autopay_reference: str = "",
    ) -> str:
        guarantor = self._get(PatientAccount, guarantor_account_no)
        owed = sum(c for _, _, c in self.patient_lines(guarantor_account_no))
        total = owed if total_cents is None else total_cents
        require(total > 0, f"account {guarantor_account_no} has no patient balance for a plan")
        # A plan runs monthly or so; a year between installments, or a start more than a
        # year away, is a typing slip that would keep the family out of collections for ever.
        require(0 < frequency_days <= PLAN_MAX_DAYS,
                f"installments must be 1 to {PLAN_MAX_DAYS} days apart")
        today = self.today()
        starts_on = starts_on or today
        require(abs((starts_on - today).days) <= PLAN_MAX_DAYS,
                f"a plan starting on {starts_on} is more than a year from today ({today})")
        # The stream version is unique per account: a plan after a default gets a new id.
        plan_id = f"P{guarantor_account_no}{guarantor.version:03d}"
        guarantor.agree_payment_plan(plan_id, total, installment_cents, frequency_days,
                                     starts_on, autopay_reference)
        self._save(guarantor)
        return plan_id

    @command
    def miss_installment(self, guarantor_account_no: str, due_on: date) -> None:
        guarantor = self._get(PatientAccount, guarantor_account_no)
        guarantor.miss_installment(due_on)
        self._save(guarantor)

    @command
    def complete_payment_plan(self, guarantor_account_no: str) -> None:
        guarantor = self._get(PatientAccount, guarantor_account_no)
        guarantor.complete_payment_plan(self.today())
        self._save(guarantor)

    @command
    def refer_to_collections(self, guarantor_account_no: str, agency: str, *,
                             approved_by: str | None = None,
                             referred_on: date | None = None) -> str:
        require(bool(agency.strip()), "name the collection agency")
        referred_on = referred_on or self.today()
        guarantor = self._get(PatientAccount, guarantor_account_no)
        if guarantor.has_current_plan:
            raise RuleViolation(
                f"account {guarantor_account_no} has a current payment plan; it cannot be referred")
        lines = self.patient_lines(guarantor_account_no)
        total = sum(c for _, _, c in lines)
        placed: list[dict[str, Any]] = []
        for encounter, line_id, cents in lines:
            encounter.transfer(line_id=line_id, from_party=PATIENT, to_party=AGENCY,
                               amount_cents=cents, effective_on=referred_on,
                               reason=f"referred to {agency}", source="user")
            encounter.post_adjustment(
                line_id=line_id, party=AGENCY, amount_cents=cents, effective_on=referred_on,
                kind=AdjustmentKind.BAD_DEBT, group="", carc="", rarcs=[],
                reason=f"bad debt at referral to {agency}",
                approved_by=approved_by or self.acting_user, source="user")
            placed.append({"encounter_id": encounter.encounter_id, "line_id": line_id,
                           "amount_cents": cents})
        referral_id = f"X{guarantor_account_no}{guarantor.version:03d}"
        guarantor.refer_to_collections(referral_id, agency.strip(), referred_on, total,
                                       approved_by or self.acting_user, placed)
        self._save(guarantor, *{e.encounter_id: e for e, _, _ in lines}.values())
        return referral_id

    def _agency_lines(self, guarantor: PatientAccount,
                      amount: int) -> list[tuple[Encounter, str, int]]:
        cache: dict[str, Encounter] = {}
        shares = []
        for share in guarantor.agency_allocation(amount):
            encounter = cache.get(share["encounter_id"]) or self._get(
                Encounter, share["encounter_id"])
            cache[encounter.encounter_id] = encounter
            shares.append((encounter, share["line_id"], share["amount_cents"]))
        return shares

    @command
    def record_agency_recovery(self, guarantor_account_no: str, recovered_cents: int,
                               fee_cents: int = 0, recovered_on: date | None = None) -> None:
        on = recovered_on or self.today()
        guarantor = self._get(PatientAccount, guarantor_account_no)
        shares = self._agency_lines(guarantor, recovered_cents)
        guarantor.record_agency_recovery(recovered_cents, fee_cents, on)
        for encounter, line_id, cents in shares:
            encounter.post_adjustment(
                line_id=line_id, party=AGENCY, amount_cents=-cents, effective_on=on,
                kind=AdjustmentKind.BAD_DEBT, group="", carc="", rarcs=[],
                reason="bad debt recovered by agency", approved_by="", source="agency",
                allow_negative=True)
            encounter.post_payment(line_id=line_id, party=AGENCY, amount_cents=cents,
                                   effective_on=on, method="agency",
                                   reference=guarantor.referral["agency"] if guarantor.referral
                                   else "", source="agency")
        self._save(guarantor, *{e.encounter_id: e for e, _, _ in shares}.values())

    @command
    def recall_from_agency(self, guarantor_account_no: str, reason: str,
                           recalled_on: date | None = None) -> int:
        on = recalled_on or self.today()
        guarantor = self._get(PatientAccount, guarantor_account_no)
        shares = self._agency_lines(guarantor, guarantor.at_agency_cents)
        remaining = guarantor.recall_from_agency(on, reason)
        for encounter, line_id, cents in shares:
            encounter.post_adjustment(
                line_id=line_id, party=AGENCY, amount_cents=-cents, effective_on=on,
                kind=AdjustmentKind.BAD_DEBT, group="", carc="", rarcs=[],
                reason=f"recalled from agency: {reason}", approved_by="", source="user",
                allow_negative=True)
            encounter.transfer(line_id=line_id, from_party=AGENCY, to_party=PATIENT,
                               amount_cents=cents, effective_on=on, reason="recalled from agency",
                               source="user")
        self._save(guarantor, *{e.encounter_id: e for e, _, _ in shares}.values())
        return remaining
