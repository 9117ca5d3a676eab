"""BillingLedger charge entry: encounters, charge lines priced from the chargemaster, coding."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import NotFoundError, RuleViolation, ValidationError
from domain.ledger import PATIENT
from tests.builders import (
    BILLING_NPI,
    EFFECTIVE,
    PRIMARY,
    PRIMARY_PLAN,
    RENDERING_NPI,
    SECONDARY,
    SERVICE_DATE,
    TIN,
    TODAY,
    Practice,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    submitted_claim,
)


class TestOpenEncounter:
    def test_a_visit_snapshots_coverage_in_order_and_normalises_diagnoses(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        before = ledger.events_count()
        encounter_id = ledger.open_encounter(
            account, SERVICE_DATE, billing_npi=BILLING_NPI, rendering_npi=RENDERING_NPI,
            place_of_service="11", diagnoses=["i10", "R07.89"], prior_authorization="PA1")

        assert sorted(names(recorded_since(ledger, before))) == ["Opened", "VisitRecorded"]
        encounter = ledger.encounter(encounter_id)
        assert encounter.diagnoses == ["I10", "R0789"]
        assert [(c["payer_id"], c["order"]) for c in encounter.coverage] == [
            (PRIMARY, "P"), (SECONDARY, "S")]
        assert not encounter.self_pay
        assert encounter.guarantor_account_no == account
        assert ledger.account(account).encounter_ids == [encounter_id]

    def test_a_patient_without_coverage_or_choosing_self_pay_is_billed_directly(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        uninsured = register_patient(ledger, coverage=())
        insured = register_patient(ledger, first_name="RICK")
        for account, self_pay in ((uninsured, False), (insured, True)):
            visit = open_visit(ledger, account, charges=["99213"], self_pay=self_pay)
            encounter = ledger.encounter(visit.encounter_id)
            assert encounter.self_pay and encounter.coverage == []
            assert encounter.balances_by_party() == {PATIENT: 10_000}

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"account_no": "NOPE"}, NotFoundError, "no account NOPE", id="account"),
        pytest.param({"service_date": date(2025, 3, 11)}, ValidationError, "in the future",
                     id="future-dos"),
        pytest.param({"service_date": date(1979, 12, 31)}, ValidationError,
                     "before the patient's birth", id="before-birth"),
        pytest.param({"place_of_service": "00"}, ValidationError, "not a CMS POS code",
                     id="pos"),
        pytest.param({"billing_npi": "1245319599"}, NotFoundError, "no provider 1245319599",
                     id="unknown-billing"),
        pytest.param({"billing_npi": RENDERING_NPI}, ValidationError,
                     "not a billing provider", id="not-billing"),
        pytest.param({"rendering_npi": "1245319599"}, NotFoundError, "no provider",
                     id="unknown-rendering"),
        pytest.param({"diagnoses": []}, ValidationError, "1 to 12", id="no-diagnoses"),
        pytest.param({"diagnoses": [f"I{n}" for n in range(10, 23)]}, ValidationError,
                     "1 to 12", id="13-diagnoses"),
        pytest.param({"diagnoses": ["R07"]}, ValidationError, "not billable ICD-10-CM codes: R07",
                     id="category-not-billable"),
        pytest.param({"diagnoses": ["I10", "i1.0"]}, ValidationError, "listed twice",
                     id="duplicate"),
    ])
    def test_a_visit_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, practice: Practice, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        account = register_patient(ledger)
        args: dict[str, Any] = {"account_no": account, "service_date": SERVICE_DATE,
                                "billing_npi": BILLING_NPI, "diagnoses": ["I10"]} | kwargs
        with refused(ledger, error, match):
            ledger.open_encounter(**args)

    def test_two_policies_of_one_payer_in_force_must_be_fixed_before_a_visit(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "OTHER1", effective_on=EFFECTIVE)
        with refused(ledger, RuleViolation, "same payer are active"):
            ledger.open_encounter(account, SERVICE_DATE, billing_npi=BILLING_NPI,
                                  diagnoses=["I10"])

    def test_an_encounter_id_is_used_once(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        ledger.open_encounter(account, SERVICE_DATE, billing_npi=BILLING_NPI,
                              diagnoses=["I10"], encounter_id="V1")
        with refused(ledger, RuleViolation, "encounter V1 already exists"):
            ledger.open_encounter(account, SERVICE_DATE, billing_npi=BILLING_NPI,
                                  diagnoses=["I10"], encounter_id="V1")


@pytest.fixture
def visit_id(ledger: BillingLedger, practice: Practice) -> str:
    """An encounter on SERVICE_DATE with diagnoses I10, R07.89 and no lines yet."""
    return open_visit(ledger, register_patient(ledger), charges=()).encounter_id


class TestEnterCharge:
    def test_a_line_is_priced_from_the_chargemaster_and_owed_by_the_primary(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        before = ledger.events_count()
        line_id = ledger.enter_charge(visit_id, " 99214 ", modifiers=["25 ", "", "gt"],
                                      units=2, pointers=[2, 1])

        [entered] = recorded_since(ledger, before)
        assert type(entered).__name__ == "ChargeEntered"
        assert (entered.actor, entered.code, entered.modifiers, entered.units_milli) == (
            "biller", "99214", ["25", "GT"], 2_000)
        assert (entered.unit_price_cents, entered.charge_cents, entered.party) == (
            15_000, 30_000, PRIMARY)
        assert (entered.service_date, entered.pointers) == (SERVICE_DATE, [2, 1])
        assert entered.description == "Office visit, established, moderate"
        encounter = ledger.encounter(visit_id)
        assert line_id == f"{visit_id}L1"
        assert encounter.balances_by_party() == {PRIMARY: 30_000}

    def test_fractional_units_round_half_up_to_the_cent(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        line_id = ledger.enter_charge(visit_id, "36415", units="0.001")  # 2.5 cents
        assert ledger.encounter(visit_id).line(line_id)["charge_cents"] == 3

    def test_the_price_is_the_one_in_force_on_the_lines_date_and_stays_frozen(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        ledger.set_price("99213", 12_000, date(2025, 2, 1), "Visit, new price")
        old = ledger.enter_charge(visit_id, "99213")
        new = ledger.enter_charge(visit_id, "99213", service_date=date(2025, 2, 15))
        ledger.set_price("99213", 99_000, date(2025, 1, 1), "Later change")

        encounter = ledger.encounter(visit_id)
        assert encounter.line(old)["charge_cents"] == 10_000
        assert encounter.line(new)["charge_cents"] == 12_000
        assert encounter.line(new)["service_date"] == date(2025, 2, 15)

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"code": "9921"}, ValidationError, "is not a CPT", id="code"),
        pytest.param({"modifiers": ["2"]}, ValidationError, "2 letters or digits",
                     id="modifier"),
        pytest.param({"modifiers": ["25", "59", "GT", "76", "77"]}, ValidationError,
                     "at most 4 modifiers", id="five-modifiers"),
        pytest.param({"pointers": [3]}, ValidationError, "does not point at one of the 2",
                     id="pointer-out-of-range"),
        pytest.param({"pointers": [0]}, ValidationError, "does not point", id="pointer-zero"),
        pytest.param({"pointers": [1, 1]}, ValidationError, "must not repeat",
                     id="pointer-twice"),
        pytest.param({"pointers": [1, 2, 1, 2, 1]}, ValidationError, "1 to 4 diagnosis",
                     id="five-pointers"),
        pytest.param({"units": 0}, ValidationError, "must be positive", id="zero-units"),
        pytest.param({"units": "-1"}, ValidationError, "must be positive",
                     id="negative-units"),
        pytest.param({"units": "abc"}, ValidationError, "not a number", id="units-text"),
        pytest.param({"units": "1.0005"}, ValidationError, "at most 3 decimals",
                     id="units-precision"),
        pytest.param({"units": "10000"}, ValidationError, "more than 9999", id="units-big"),
        pytest.param({"service_date": date(2025, 3, 11)}, ValidationError, "in the future",
                     id="future-dos"),
        pytest.param({"place_of_service": "7"}, ValidationError, "not a CMS POS", id="pos"),
        pytest.param({"code": "J3490"}, RuleViolation, "J3490 has no chargemaster price",
                     id="unpriced"),
        pytest.param({"service_date": date(2023, 6, 1)}, RuleViolation,
                     "no chargemaster price on 2023-06-01", id="before-price"),
    ])
    def test_a_line_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, visit_id: str, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        args: dict[str, Any] = {"code": "99213"} | kwargs
        with refused(ledger, error, match):
            ledger.enter_charge(visit_id, **args)

    def test_a_charge_on_an_unknown_encounter_is_refused(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        with refused(ledger, NotFoundError, "no encounter V404"):
            ledger.enter_charge("V404", "99213")

    def test_charges_without_a_chargemaster_are_refused(self, ledger: BillingLedger) -> None:
        ledger.enroll_provider(BILLING_NPI, "ACME", TIN, is_billing=True)
        account = register_patient(ledger, coverage=())
        encounter_id = ledger.open_encounter(account, SERVICE_DATE, billing_npi=BILLING_NPI,
                                             diagnoses=["I10"])
        with refused(ledger, RuleViolation, "99213 has no chargemaster price"):
            ledger.enter_charge(encounter_id, "99213")

    def test_a_batch_of_lines_is_entered_whole_or_not_at_all(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        with refused(ledger, ValidationError, "is not a CPT"):
            ledger.enter_charges(visit_id, [("99213", [], 1, [1]), ("XYZ", [], 1, [1])])
        ids = ledger.enter_charges(visit_id, [("99213", [], 1, [1]), ("93000", [], "1", [2])])
        assert ids == [f"{visit_id}L1", f"{visit_id}L2"]
        assert ledger.encounter(visit_id).balance_cents == 15_000

    def test_a_self_pay_patient_with_a_discount_gets_it_on_every_line(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=())
        ledger.grant_discount(account, "sliding-scale", 40, effective_on=EFFECTIVE,
                              approved_by="supervisor", reason="income")
        visit = open_visit(ledger, account, charges=())
        before = ledger.events_count()
        line_id = ledger.enter_charge(visit.encounter_id, "99214")

        charge, discount = recorded_since(ledger, before)
        assert names([charge, discount]) == ["ChargeEntered", "AdjustmentPosted"]
        assert (discount.line_id, discount.party, discount.amount_cents) == (
            line_id, PATIENT, 6_000)
        assert (discount.kind, discount.approved_by, discount.reason) == (
            "discount", "supervisor", "sliding-scale 40%")
        assert discount.effective_on == SERVICE_DATE
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 9_000}


class TestCorrectDiagnoses:
    def test_a_coding_correction_replaces_the_diagnoses_with_a_reason(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        ledger.enter_charge(visit_id, "99213", pointers=[1])
        before = ledger.events_count()
        ledger.correct_diagnoses(visit_id, ["E11.9"], "coder review")

        [corrected] = recorded_since(ledger, before)
        assert (type(corrected).__name__, corrected.diagnoses, corrected.reason) == (
            "DiagnosesCorrected", ["E119"], "coder review")
        assert ledger.encounter(visit_id).diagnoses == ["E119"]

    def test_a_correction_needs_a_reason_billable_codes_and_keeps_pointers_valid(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        ledger.enter_charge(visit_id, "99213", pointers=[2])
        with refused(ledger, ValidationError, "needs a reason"):
            ledger.correct_diagnoses(visit_id, ["I10"], " ")
        with refused(ledger, ValidationError, "not billable"):
            ledger.correct_diagnoses(visit_id, ["I10", "XYZ"], "coder")
        with refused(ledger, RuleViolation, "points at a diagnosis that would no longer exist"):
            ledger.correct_diagnoses(visit_id, ["I10"], "coder")


class TestReverseCharge:
    def test_a_charge_entered_in_error_is_reversed_not_deleted(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        keep = ledger.enter_charge(visit_id, "99213")
        wrong = ledger.enter_charge(visit_id, "93000")
        before = ledger.events_count()
        ledger.reverse_charge(visit_id, wrong, "wrong patient")

        [reversed_] = recorded_since(ledger, before)
        assert type(reversed_).__name__ == "EntryReversed"
        assert (reversed_.reverses_entry_id, reversed_.reversed_event, reversed_.reason) == (
            wrong, "ChargeEntered", "wrong patient")
        assert reversed_.effective_on == TODAY
        encounter = ledger.encounter(visit_id)
        assert encounter.line(wrong)["reversed"]
        assert encounter.line_balance(wrong) == 0
        assert encounter.balances_by_party() == {PRIMARY: 10_000}
        assert encounter.line(keep)["charge_cents"] == 10_000

    def test_a_charge_is_reversed_only_once_with_a_reason_and_nothing_on_it(
        self, ledger: BillingLedger, visit_id: str,
    ) -> None:
        paid = ledger.enter_charge(visit_id, "99213")
        claimed = ledger.enter_charge(visit_id, "93000")
        ledger.post_manual_payment(visit_id, paid, PATIENT, 1_000)
        submitted_claim(ledger, visit_id, claim_id="CLAIM1")
        loose = ledger.enter_charge(visit_id, "36415")

        with refused(ledger, ValidationError, "has no charge line NOPE"):
            ledger.reverse_charge(visit_id, "NOPE", "typo")
        with refused(ledger, RuleViolation, "has postings"):
            ledger.reverse_charge(visit_id, paid, "typo")
        with refused(ledger, RuleViolation, "is on a claim"):
            ledger.reverse_charge(visit_id, claimed, "typo")
        with refused(ledger, ValidationError, "needs a reason"):
            ledger.reverse_charge(visit_id, loose, "  ")
        reversal = ledger.reverse_charge(visit_id, loose, "typo")
        with refused(ledger, RuleViolation, f"entry {loose} is already reversed"):
            ledger.reverse_charge(visit_id, loose, "typo")
        with refused(ledger, RuleViolation, "a reversal is not reversed"):
            ledger.reverse_entry(visit_id, reversal, "undo")
