"""Use cases for money by hand: patient payments, manual payer postings, transfers, write-offs,
refunds and reversals. Every one is a new event; nothing is edited or deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.encounter import Encounter
from domain.errors import PermissionDenied, RuleViolation, ValidationError
from domain.ledger import AGENCY, PATIENT, AdjustmentKind
from domain.patient_account import PatientAccount
from domain.services.core import LedgerCore, command
from domain.services.practice import require

PAYMENT_METHODS = ("cash", "check", "card", "ach", "ERA", "agency", "other")
WRITE_OFF_KINDS = {k.value for k in AdjustmentKind} - {"contractual", "payer"}


class PaymentCommands(LedgerCore):
    def _entry_date(self, day: date | None, what: str) -> date:
        """The business date of money entered by hand: today unless given, never later.

        An 835 may carry a payment date a few days ahead (the EFT's effective date), but a
        biller posts what has been received: a future date is a typing slip that would
        age and report the money wrongly until that day.
        """
        today = self.today()
        if day is None:
            return today
        require(day <= today, f"{what} date {day} is in the future (today is {today})")
        return day

    def family_accounts(self, guarantor_account_no: str) -> list[PatientAccount]:
        """The guarantor and every account they guarantee."""
        guarantor = self._get(PatientAccount, guarantor_account_no)
        if guarantor.guarantor_account_no != guarantor.account_no:
            raise RuleViolation(
                f"{guarantor_account_no} is not a guarantor; use account "
                f"{guarantor.guarantor_account_no}")
        return [guarantor] + [self._get(PatientAccount, a) for a in guarantor.dependents]

    def family_encounters(self, guarantor_account_no: str) -> Iterator[Encounter]:
        encounters = [self._get(Encounter, e)
                      for account in self.family_accounts(guarantor_account_no)
                      for e in account.encounter_ids]
        yield from sorted(encounters, key=lambda e: (e.service_date, e.encounter_id))

    @command
    def post_patient_payment(
        self, guarantor_account_no: str, amount_cents: int, *, paid_on: date | None = None,
        method: str = "cash", reference: str = "", party: str = PATIENT,
    ) -> list[str]:
        """Apply a guarantor's payment to the oldest patient balances first.

        Anything left over stays as a credit on the newest line, shown in the refund queue.
        """
        require(amount_cents > 0, "a payment must be a positive amount")
        require(method in PAYMENT_METHODS, f"method must be one of {', '.join(PAYMENT_METHODS)}")
        paid_on = self._entry_date(paid_on, "payment")
        encounters = list(self.family_encounters(guarantor_account_no))
        lines = [(e, line_id) for e in encounters for line_id, line in e.lines.items()
                 if not line["reversed"]]
        if not lines:
            raise RuleViolation(f"account {guarantor_account_no} has no charges to pay")
        left = amount_cents
        touched: dict[str, Encounter] = {}
        entries = []
        for encounter, line_id in lines:
            owed = encounter.party_balance(line_id, party)
            if owed <= 0 or left == 0:
                continue
            share = min(owed, left)
            entries.append(encounter.post_payment(
                line_id=line_id, party=party, amount_cents=share, effective_on=paid_on,
                method=method, reference=reference, source="user"))
            touched[encounter.encounter_id] = encounter
            left -= share
        if left:
            encounter, line_id = lines[-1]
            entries.append(encounter.post_payment(
                line_id=line_id, party=party, amount_cents=left, effective_on=paid_on,
                method=method, reference=reference, source="user:overpayment"))
            touched[encounter.encounter_id] = encounter
        self._save(*touched.values())
        return entries

    @command
    def post_manual_payment(
        self, encounter_id: str, line_id: str, party: str, amount_cents: int, *,
        paid_on: date | None = None, method: str = "check", reference: str = "",
    ) -> str:
        """A payment by hand against one line (a paper EOB, a check with no ERA)."""
        encounter = self._get(Encounter, encounter_id)
        self._check_party(encounter, party)
        require(method in PAYMENT_METHODS, f"method must be one of {', '.join(PAYMENT_METHODS)}")
        entry = encounter.post_payment(
            line_id=line_id, party=party, amount_cents=amount_cents,
            effective_on=self._entry_date(paid_on, "payment"), method=method,
            reference=reference,
            source="user")
        self._save(encounter)
        return entry

    @staticmethod
    def _check_party(encounter: Encounter, party: str) -> None:
        if party not in (PATIENT, AGENCY, *encounter.payer_parties()):
            raise ValidationError(
                f"{party} is not a party to encounter {encounter.encounter_id}: use PATIENT, "
                f"AGENCY or one of {', '.join(encounter.payer_parties()) or 'no payers'}")

    @command
    def post_adjustment(
        self, encounter_id: str, line_id: str, party: str, amount_cents: int, *,
        group: str, carc: str, reason: str = "", rarcs: list[str] | None = None,
        effective_on: date | None = None,
    ) -> str:
        """A payer adjustment from a paper EOB (group + CARC), posted by hand."""
        require(group in ("CO", "PR", "OA", "PI"), "group must be CO, PR, OA or PI")
        require(bool(carc.strip()), "an adjustment needs a CARC")
        encounter = self._get(Encounter, encounter_id)
        self._check_party(encounter, party)
        entry = encounter.post_adjustment(
            line_id=line_id, party=party, amount_cents=amount_cents,
            effective_on=self._entry_date(effective_on, "adjustment"),
            kind=AdjustmentKind.PAYER, group=group,
            carc=carc, rarcs=rarcs or [], reason=reason or f"{group}-{carc}", approved_by="",
            source="user")
        self._save(encounter)
        return entry

    @command
    def transfer_balance(
        self, encounter_id: str, line_id: str, from_party: str, to_party: str,
        amount_cents: int | None = None, *, reason: str = "", effective_on: date | None = None,
    ) -> str:
        """Move responsibility for (part of) a line; the balance itself does not change."""
        encounter = self._get(Encounter, encounter_id)
        self._check_party(encounter, from_party)
        self._check_party(encounter, to_party)
        held = encounter.party_balance(line_id, from_party)
        amount = held if amount_cents is None else amount_cents
        require(amount > 0, f"{from_party} holds nothing on {line_id} to transfer")
        require(amount <= held, f"{from_party} holds only {held} cents on {line_id}")
        entry = encounter.transfer(
            line_id=line_id, from_party=from_party, to_party=to_party, amount_cents=amount,
            effective_on=self._entry_date(effective_on, "transfer"),
            reason=reason or "manual transfer",
            source="user")
        self._save(encounter)
        return entry

    @command
    def transfer_to_patient(self, encounter_id: str, from_party: str,
                            reason: str = "") -> list[str]:
        """Everything a payer still holds on an encounter becomes the patient's."""
        encounter = self._get(Encounter, encounter_id)
        self._check_party(encounter, from_party)
        entries = []
        for line_id in encounter.lines:
            held = encounter.party_balance(line_id, from_party)
            if held > 0:
                entries.append(encounter.transfer(
                    line_id=line_id, from_party=from_party, to_party=PATIENT, amount_cents=held,
                    effective_on=self.today(), reason=reason or "transfer to patient",
                    source="user"))
        require(bool(entries), f"{from_party} holds nothing on encounter {encounter_id}")
        self._save(encounter)
        return entries

    @command
    def write_off(
        self, encounter_id: str, line_id: str, party: str, *, kind: str, reason: str,
        amount_cents: int | None = None, approved_by: str | None = None,
        effective_on: date | None = None,
    ) -> str:
        """Write off (part of) what a party owes on a line, with reason and approver."""
        encounter, amount = self._write_off_asked(encounter_id, line_id, party, kind, reason,
                                                  amount_cents)
        limit = self.setting("write_off_supervisor_threshold_cents")
        if amount > limit and self.role is not None:
            # On an open, single-user ledger there is no second person to ask.
            raise PermissionDenied(
                f"a write-off above {limit} cents needs a supervisor's approval: request it "
                "(claimdesk write-off request) and a supervisor other than you approves it")
        entry = encounter.post_adjustment(
            line_id=line_id, party=party, amount_cents=amount,
            effective_on=self._entry_date(effective_on, "write-off"), kind=kind, group="",
            carc="", rarcs=[],
            reason=reason, approved_by=approved_by or self.acting_user, source="user")
        self._save(encounter)
        return entry

    def _write_off_asked(self, encounter_id: str, line_id: str, party: str, kind: str,
                         reason: str, amount_cents: int | None) -> tuple[Encounter, int]:
        """The encounter and the amount of a write-off (or its request), once checked."""
        require(kind in WRITE_OFF_KINDS,
                f"kind must be one of {', '.join(sorted(WRITE_OFF_KINDS))}")
        require(bool(reason.strip()), "a write-off needs a reason")
        encounter = self._get(Encounter, encounter_id)
        self._check_party(encounter, party)
        held = encounter.party_balance(line_id, party)
        amount = held if amount_cents is None else amount_cents
        require(amount > 0, f"{party} owes nothing on {line_id} to write off")
        require(amount <= held, f"{party} owes only {held} cents on {line_id}")
        self._check_write_off_kind(kind, amount, party)
        return encounter, amount

    def _check_write_off_kind(self, kind: str, amount: int, party: str) -> None:
        if kind == "small-balance":
            small = self.setting("small_balance_threshold_cents")
            require(party == PATIENT, "a small-balance write-off is for patient balances")
            require(amount < small,
                    f"a small-balance write-off must be under {small} cents (DOMAIN §8)")

    @command
    def request_write_off(
        self, encounter_id: str, line_id: str, party: str, *, kind: str, reason: str,
        amount_cents: int | None = None,
    ) -> str:
        """Ask a supervisor to write off more than one person may alone."""
        encounter, amount = self._write_off_asked(encounter_id, line_id, party, kind, reason,
                                                  amount_cents)
        request_id = f"W{len(encounter.write_off_requests) + 1}"
        encounter.request_write_off(request_id, line_id, party, amount, kind, reason,
                                    self.acting_user, self.today())
        self._save(encounter)
        return request_id

    @command
    def approve_write_off(self, encounter_id: str, request_id: str) -> str:
        encounter = self._get(Encounter, encounter_id)
        entry = encounter.approve_write_off(request_id, self.acting_user, self.today())
        self._save(encounter)
        return entry

    @command
    def decline_write_off(self, encounter_id: str, request_id: str, reason: str) -> None:
        require(bool(reason.strip()), "say why the write-off is declined")
        encounter = self._get(Encounter, encounter_id)
        encounter.decline_write_off(request_id, self.acting_user, reason)
        self._save(encounter)

    @command
    def reverse_entry(self, encounter_id: str, entry_id: str, reason: str,
                      effective_on: date | None = None) -> str:
        """Undo a posting by its exact negation (a bounced check, a payment on the wrong line)."""
        encounter = self._get(Encounter, encounter_id)
        entry = encounter.reverse_entry(entry_id, self._entry_date(effective_on, "reversal"),
                                        reason, "user")
        self._save(encounter)
        return entry

    def credit_cents(self, guarantor_account_no: str, party: str = PATIENT) -> int:
        return -sum(min(e.party_balance(i, party), 0)
                    for e in self.family_encounters(guarantor_account_no) for i in e.lines)

    @command
    def request_refund(self, guarantor_account_no: str, amount_cents: int, *, payee: str = "",
                       reason: str) -> str:
        """Ask for a refund of a patient credit balance; a supervisor approves it."""
        require(bool(reason.strip()), "a refund request needs a reason")
        credit = self.credit_cents(guarantor_account_no)
        require(amount_cents <= credit,
                f"account {guarantor_account_no} has a credit of only {credit} cents")
        account = self._get(PatientAccount, guarantor_account_no)
        request_id = f"R{len(account.refund_requests) + 1}"
        account.request_refund(request_id, amount_cents, payee or account.display_name,
                               self.today(), reason, self.acting_user)
        self._save(account)
        return request_id

    @command
    def approve_refund(self, guarantor_account_no: str, request_id: str) -> list[str]:
        account = self._get(PatientAccount, guarantor_account_no)
        request = account.pending_refund(request_id)
        approver = self.acting_user
        account.approve_refund(request_id, approver, self.today())
        left = request["amount_cents"]
        touched: dict[str, Encounter] = {}
        entries = []
        for encounter in self.family_encounters(guarantor_account_no):
            for line_id in encounter.lines:
                credit = -encounter.party_balance(line_id, PATIENT)
                if credit <= 0 or left == 0:
                    continue
                share = min(credit, left)
                entries.append(encounter.issue_refund(
                    line_id=line_id, party=PATIENT, amount_cents=share,
                    effective_on=self.today(), payee=request["payee"],
                    requested_by=request["requested_by"], approved_by=approver,
                    request_id=request_id, source="user"))
                touched[encounter.encounter_id] = encounter
                left -= share
        if left:
            raise RuleViolation(
                f"the credit on {guarantor_account_no} is now {request['amount_cents'] - left} "
                "cents, less than the request; decline it and request again")
        self._save(account, *touched.values())
        return entries

    @command
    def decline_refund(self, guarantor_account_no: str, request_id: str, reason: str) -> None:
        account = self._get(PatientAccount, guarantor_account_no)
        account.decline_refund(request_id, self.acting_user, reason)
        self._save(account)
