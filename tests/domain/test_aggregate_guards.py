"""Aggregate guards the application service normally checks first: they must hold on their own."""

from __future__ import annotations

from datetime import date

import pytest

from domain.application import BillingLedger
from domain.claim import Claim
from domain.encounter import Encounter
from domain.errors import RuleViolation, ValidationError
from domain.patient_account import PatientAccount
from tests.builders import PRIMARY, SERVICE_DATE, Practice, open_visit, refused, register_patient


def account() -> PatientAccount:
    return PatientAccount(
        account_no="A1", last_name="DOE", first_name="JANE", middle_name="",
        birth_date=date(1980, 1, 1), sex="F", address={}, phone="", reason_for_visit="",
        registered_on=date(2025, 1, 1))


def encounter() -> Encounter:
    return Encounter(
        encounter_id="V1", account_no="A1", guarantor_account_no="A1", service_date=SERVICE_DATE,
        place_of_service="11", billing_npi="1234567893", rendering_npi="", referring_npi="",
        prior_authorization="", diagnoses=["I10"], coverage=[], self_pay=True)


def claim() -> Claim:
    return Claim(
        claim_id="C1", encounter_id="V1", account_no="A1", payer_id=PRIMARY, plan_id="P",
        policy_id="A1-1", coverage_order="P", line_ids=["V1L1"], charge_cents=100,
        billing_npi="1234567893", service_date=SERVICE_DATE, created_on=SERVICE_DATE)


def test_a_discount_needs_an_approver() -> None:
    with pytest.raises(ValidationError, match="needs an approver"):
        account().grant_discount("self-pay", 20, date(2025, 1, 1), None, "", "uninsured")


@pytest.mark.parametrize("balance", [0, -500])
def test_a_statement_needs_a_balance_due(balance: int) -> None:
    with pytest.raises(RuleViolation, match="needs a patient balance due"):
        account().issue_statement("S1", date(2025, 3, 1), 1, balance, date(2025, 3, 31), [])


@pytest.mark.parametrize("diagnoses", [[], [f"I{n}" for n in range(13)]])
def test_an_encounter_keeps_1_to_12_diagnoses(diagnoses: list[str]) -> None:
    with pytest.raises(ValidationError, match="1 to 12 diagnoses"):
        encounter().correct_diagnoses(diagnoses, "coder")


def test_a_line_needs_positive_units() -> None:
    with pytest.raises(ValidationError, match="units must be positive"):
        encounter().enter_charge("99213", [], 0, [1], 10_000, "Visit")


def test_only_a_claim_sent_as_a_void_can_be_confirmed_voided() -> None:
    with pytest.raises(RuleViolation, match="was not sent as a void"):
        claim().confirm_void(date(2025, 3, 1), "277CA")


def test_a_line_too_cheap_to_round_to_a_cent_is_refused(
    ledger: BillingLedger, practice: Practice,
) -> None:
    ledger.set_price("A4550", 400, date(2024, 1, 1), "Surgical tray")
    visit = open_visit(ledger, register_patient(ledger), charges=())
    with refused(ledger, ValidationError, "a charge must be a positive amount"):
        ledger.enter_charge(visit.encounter_id, "A4550", units="0.001")  # 0.4 cents
