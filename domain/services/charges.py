"""Use cases at charge entry: open a visit, code it, price its lines from the chargemaster."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.codes import (
    is_billable_icd10,
    is_valid_modifier,
    is_valid_pos,
    is_valid_procedure_code,
    normalize_icd10,
)
from domain.encounter import MAX_DIAGNOSES, Encounter
from domain.errors import RuleViolation, ValidationError
from domain.ledger import PATIENT, AdjustmentKind
from domain.money import apply_rate
from domain.patient_account import ORDER_LETTERS, PatientAccount
from domain.practice import Chargemaster, Provider
from domain.services.core import LedgerCore, command
from domain.services.practice import require


def check_diagnoses(diagnoses: list[str]) -> list[str]:
    require(1 <= len(diagnoses) <= MAX_DIAGNOSES, "an encounter needs 1 to 12 ICD-10-CM codes")
    codes = [normalize_icd10(d) for d in diagnoses]
    bad = [d for d, code in zip(diagnoses, codes, strict=True) if not is_billable_icd10(code)]
    require(not bad, f"not billable ICD-10-CM codes: {', '.join(bad)}")
    require(len(set(codes)) == len(codes), "a diagnosis is listed twice")
    return codes


def parse_units(units: str | int | Decimal) -> int:
    """Units as thousandths: SV104 is a decimal (anesthesia minutes, fractional drug units)."""
    try:
        value = Decimal(str(units))
    except ArithmeticError:
        raise ValidationError(f"units {units!r} is not a number") from None
    milli = value * 1000
    if not milli.is_finite() or milli != milli.to_integral_value() or milli <= 0:
        raise ValidationError(f"units {units!r} must be positive with at most 3 decimals")
    if milli > 9_999_000:
        raise ValidationError(f"units {units!r} is more than 9999")
    return int(milli)


class ChargeCommands(LedgerCore):
    @command
    def open_encounter(
        self, account_no: str, service_date: date, *, billing_npi: str, rendering_npi: str = "",
        place_of_service: str = "11", diagnoses: list[str], referring_npi: str = "",
        prior_authorization: str = "", self_pay: bool = False, encounter_id: str | None = None,
    ) -> str:
        account = self._get(PatientAccount, account_no)
        require(service_date <= self.today(), f"date of service {service_date} is in the future")
        require(service_date >= account.birth_date,
                f"date of service {service_date} is before the patient's birth")
        require(is_valid_pos(place_of_service),
                f"place of service {place_of_service!r} is not a CMS POS code")
        billing = self._get(Provider, billing_npi)
        require(billing.is_billing, f"provider {billing_npi} is not a billing provider")
        if rendering_npi:
            self._get(Provider, rendering_npi)
        codes = check_diagnoses(diagnoses)
        policies = [] if self_pay else account.active_policies(service_date)
        coverage = [{"policy_id": p["policy_id"], "payer_id": p["payer_id"],
                     "plan_id": p["plan_id"], "member_id": p["member_id"],
                     "order": ORDER_LETTERS[i]} for i, p in enumerate(policies)]
        payers = [c["payer_id"] for c in coverage]
        if len(set(payers)) != len(payers):
            raise RuleViolation(
                "two policies with the same payer are active on that date; fix coverage first")
        if encounter_id is None:
            encounter_id = self.ids.encounter_id()
            while self._exists(Encounter, encounter_id):
                encounter_id = self.ids.encounter_id()
        elif self._exists(Encounter, encounter_id):
            raise RuleViolation(f"encounter {encounter_id} already exists")
        encounter = Encounter(
            encounter_id=encounter_id, account_no=account_no,
            guarantor_account_no=account.guarantor_account_no, service_date=service_date,
            place_of_service=place_of_service, billing_npi=billing_npi,
            rendering_npi=rendering_npi, referring_npi=referring_npi,
            prior_authorization=prior_authorization, diagnoses=codes, coverage=coverage,
            self_pay=self_pay or not coverage)
        account.record_visit(encounter_id, service_date)
        self._save(encounter, account)
        return encounter_id

    def encounter(self, encounter_id: str) -> Encounter:
        return self._get(Encounter, encounter_id)

    @command
    def enter_charge(
        self, encounter_id: str, code: str, *, modifiers: list[str] | None = None,
        units: str | int | Decimal = 1, pointers: list[int] | None = None,
        service_date: date | None = None, place_of_service: str = "",
    ) -> str:
        """Enter one line, priced from the chargemaster on its date of service."""
        return self._enter_charges(encounter_id, [(code, modifiers or [], units, pointers or [1],
                                                   service_date, place_of_service)])[0]

    @command
    def enter_charges(
        self, encounter_id: str,
        lines: list[tuple[str, list[str], str | int | Decimal, list[int]]],
    ) -> list[str]:
        return self._enter_charges(
            encounter_id, [(c, m, u, p, None, "") for c, m, u, p in lines])

    def _enter_charges(
        self, encounter_id: str,
        lines: list[tuple[str, list[str], str | int | Decimal, list[int], date | None, str]],
    ) -> list[str]:
        encounter = self._get(Encounter, encounter_id)
        chargemaster = self._get(Chargemaster) if self._exists(Chargemaster) else None
        account = self._get(PatientAccount, encounter.account_no)
        discount = account.discount_on(encounter.service_date) if encounter.self_pay else None
        line_ids = []
        for raw_code, raw_modifiers, units, pointers, service_date, pos in lines:
            code = raw_code.strip().upper()
            require(is_valid_procedure_code(code),
                    f"{code!r} is not a CPT (5 digits, or 4 digits + F/T/U) or HCPCS code")
            modifiers = [m.strip().upper() for m in raw_modifiers if m.strip()]
            bad = [m for m in modifiers if not is_valid_modifier(m)]
            require(not bad, f"modifiers must be 2 letters or digits: {', '.join(bad)}")
            if service_date is not None:
                require(service_date <= self.today(), "date of service is in the future")
            if pos:
                require(is_valid_pos(pos), f"place of service {pos!r} is not a CMS POS code")
            dos = service_date or encounter.service_date
            price = chargemaster.price_on(code, dos) if chargemaster else None
            if price is None:
                raise RuleViolation(f"{code} has no chargemaster price on {dos}")
            line_id = encounter.enter_charge(
                code=code, modifiers=modifiers, units_milli=parse_units(units),
                pointers=list(pointers), unit_price_cents=price[0], description=price[1],
                service_date=service_date, place_of_service=pos, posted_on=self.today())
            line_ids.append(line_id)
            if discount is not None:
                line = encounter.line(line_id)
                amount = apply_rate(line["charge_cents"], Decimal(discount["percent"]) / 100)
                if amount > 0:
                    encounter.post_adjustment(
                        line_id=line_id, party=PATIENT, amount_cents=amount,
                        effective_on=dos, kind=AdjustmentKind.DISCOUNT, group="", carc="",
                        rarcs=[], reason=f"{discount['kind']} {discount['percent']}%",
                        approved_by=discount["approved_by"], source="discount")
        self._save(encounter)
        return line_ids

    @command
    def correct_diagnoses(self, encounter_id: str, diagnoses: list[str], reason: str) -> None:
        require(bool(reason.strip()), "a correction needs a reason")
        encounter = self._get(Encounter, encounter_id)
        encounter.correct_diagnoses(check_diagnoses(diagnoses), reason)
        self._save(encounter)

    @command
    def reverse_charge(self, encounter_id: str, line_id: str, reason: str,
                       effective_on: date | None = None) -> str:
        """A charge entered in error: a reversing entry, never a delete."""
        encounter = self._get(Encounter, encounter_id)
        encounter.line(line_id)
        entry_id = encounter.reverse_entry(line_id, effective_on or self.today(), reason,
                                           source="user")
        self._save(encounter)
        return entry_id
