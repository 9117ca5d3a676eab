"""BillingLedger claim life: create, scrub, submit, acknowledge, correct, void, work, close."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.application import BillingLedger
from domain.claim import ClaimState
from domain.errors import NotFoundError, RuleViolation, ValidationError
from tests.builders import (
    PRIMARY,
    PRIMARY_PLAN,
    SECONDARY,
    SERVICE_DATE,
    SUBMITTED_ON,
    TODAY,
    Practice,
    Visit,
    cas,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    remit,
    set_up_practice,
    submitted_claim,
    svc,
    worked_example_remit,
)


@pytest.fixture
def visit(ledger: BillingLedger, practice: Practice) -> Visit:
    """DOMAIN §4's visit: 99214-25 ($150) and 93000 ($50), primary then secondary coverage."""
    return open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))


class TestCreateClaim:
    def test_a_claim_bills_every_unbilled_line_to_the_primary_payer(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        before = ledger.events_count()
        claim_id = ledger.create_claim(visit.encounter_id)

        assert names(recorded_since(ledger, before)) == ["Created", "LinesClaimed"]
        assert re.fullmatch(r"[A-Z0-9]{1,17}", claim_id)
        claim = ledger.claim(claim_id)
        assert (claim.payer_id, claim.plan_id, claim.coverage_order) == (
            PRIMARY, PRIMARY_PLAN, "P")
        assert claim.line_ids == list(visit.line_ids)
        assert (claim.charge_cents, claim.service_date, claim.opened_on) == (
            20_000, SERVICE_DATE, TODAY)
        assert (claim.state, claim.frequency, claim.claim_version) == (ClaimState.DRAFT, "1", 1)
        encounter = ledger.encounter(visit.encounter_id)
        assert all(encounter.line(i)["claims"] == {PRIMARY: claim_id} for i in visit.line_ids)

    def test_a_claim_can_name_its_id_and_lines(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        ledger.create_claim(visit.encounter_id, PRIMARY, line_ids=[visit.line_ids[1]],
                            claim_id="PCN20250115001")
        assert ledger.claim("PCN20250115001").charge_cents == 5_000
        assert ledger.create_claim(visit.encounter_id) != "PCN20250115001"  # the other line

    @pytest.mark.parametrize(("claim_id", "match"), [
        pytest.param("pcn1", "1-17 characters", id="lowercase"),
        pytest.param("PCN-1", "1-17 characters", id="punctuation"),
        pytest.param("P" * 18, "1-17 characters", id="18-characters"),
    ])
    def test_a_claim_id_must_be_1_to_17_letters_or_digits(
        self, ledger: BillingLedger, visit: Visit, claim_id: str, match: str,
    ) -> None:
        with refused(ledger, ValidationError, match):
            ledger.create_claim(visit.encounter_id, claim_id=claim_id)

    def test_a_claim_id_is_used_once(self, ledger: BillingLedger, visit: Visit) -> None:
        ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[0]], claim_id="PCN1")
        with refused(ledger, RuleViolation, "claim PCN1 already exists"):
            ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[1]],
                                claim_id="PCN1")

    def test_a_line_is_on_one_claim_per_payer(self, ledger: BillingLedger, visit: Visit) -> None:
        first = ledger.create_claim(visit.encounter_id)
        with refused(ledger, ValidationError, f"no lines to bill to {PRIMARY}"):
            ledger.create_claim(visit.encounter_id)
        with refused(ledger, RuleViolation, f"already on claim {first}"):
            ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[0]])

    def test_a_reversed_or_unknown_line_cannot_be_billed(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        ledger.reverse_charge(visit.encounter_id, visit.line_ids[0], "wrong code")
        with refused(ledger, RuleViolation, "was reversed and cannot be billed"):
            ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[0]])
        with refused(ledger, ValidationError, "has no charge line NOPE"):
            ledger.create_claim(visit.encounter_id, line_ids=["NOPE"])

    def test_self_pay_payers_off_coverage_and_inactive_eligibility_are_refused(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        self_pay = open_visit(ledger, visit.account_no, self_pay=True)
        with refused(ledger, RuleViolation, "is self-pay; bill the patient"):
            ledger.create_claim(self_pay.encounter_id)
        with refused(ledger, RuleViolation, "payer NOSUCH is not on encounter"):
            ledger.create_claim(visit.encounter_id, "NOSUCH")
        policy_id = ledger.account(visit.account_no).coverage_order[0]
        ledger.record_eligibility(visit.account_no, policy_id, active=False,
                                  service_on=SERVICE_DATE)
        with refused(ledger, RuleViolation, "coverage was inactive on 2025-01-10"):
            ledger.create_claim(visit.encounter_id)

    def test_a_claim_takes_at_most_50_lines(self, ledger: BillingLedger, visit: Visit) -> None:
        ledger.enter_charges(visit.encounter_id, [("36415", [], 1, [1])] * 49)
        with refused(ledger, ValidationError, "at most 50 lines"):
            ledger.create_claim(visit.encounter_id)

    def test_a_secondary_claim_bills_only_the_lines_the_secondary_now_owes(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        with refused(ledger, ValidationError, f"no lines to bill to {SECONDARY}"):
            ledger.create_claim(visit.encounter_id, SECONDARY)
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[1], PRIMARY, SECONDARY)
        claim_id = ledger.create_claim(visit.encounter_id, SECONDARY)
        claim = ledger.claim(claim_id)
        assert (claim.line_ids, claim.coverage_order) == ([visit.line_ids[1]], "S")


class TestScrubClaim:
    def test_a_clean_draft_becomes_ready(self, ledger: BillingLedger, visit: Visit) -> None:
        claim_id = ledger.create_claim(visit.encounter_id)
        before = ledger.events_count()

        assert ledger.scrub_claim(claim_id) == []
        assert names(recorded_since(ledger, before)) == ["MarkedReady"]
        assert ledger.claim(claim_id).state is ClaimState.READY

    def test_problems_are_recorded_and_the_claim_stays_a_draft(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = ledger.create_claim(visit.encounter_id)
        policy_id = ledger.account(visit.account_no).coverage_order[0]
        ledger.terminate_coverage(visit.account_no, policy_id, date(2024, 12, 31))
        before = ledger.events_count()

        problems = ledger.scrub_claim(claim_id)

        assert problems == [f"policy {policy_id} ({PRIMARY}) is not active on the date of "
                            "service 2025-01-10"]
        [failed] = recorded_since(ledger, before)
        assert (type(failed).__name__, failed.problems) == ("ScrubFailed", problems)
        assert ledger.claim(claim_id).state is ClaimState.DRAFT

    def test_a_secondary_claim_waits_for_the_primary_adjudication(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[1], PRIMARY, SECONDARY)
        claim_id = ledger.create_claim(visit.encounter_id, SECONDARY)
        assert ledger.scrub_claim(claim_id) == [
            "a secondary claim needs the primary payer's adjudication first"]

    def test_a_submitted_claim_is_not_scrubbed_again(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = submitted_claim(ledger, visit.encounter_id)
        with refused(ledger, RuleViolation, "is submitted; it must be draft or ready"):
            ledger.scrub_claim(claim_id)


class TestTimelyFiling:
    def test_a_late_claim_needs_a_supervisor_override_with_a_reason(
        self, ledger: BillingLedger,
    ) -> None:
        set_up_practice(ledger, timely_filing_days=30)
        visit = open_visit(ledger, register_patient(ledger))
        claim_id = ledger.create_claim(visit.encounter_id)
        assert ledger.scrub_claim(claim_id) == [
            "timely filing deadline 2025-02-09 has passed; a supervisor override with a "
            "reason is needed"]

        with refused(ledger, ValidationError, "an override needs a reason"):
            ledger.override_filing_limit(claim_id, " ")
        before = ledger.events_count()
        ledger.override_filing_limit(claim_id, "999 accepted 2025-01-20 (proof attached)")

        [override] = recorded_since(ledger, before)
        assert (type(override).__name__, override.approved_by) == (
            "FilingLimitOverridden", "biller")
        assert ledger.scrub_claim(claim_id) == []


class TestSubmitAndAcknowledge:
    def test_a_batch_records_each_claims_submission(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = ledger.create_claim(visit.encounter_id)
        ledger.scrub_claim(claim_id)
        before = ledger.events_count()
        ledger.mark_submitted([claim_id], batch_id="B1", submitted_on=SUBMITTED_ON,
                              interchange_control="000000101",
                              transaction_controls={claim_id: "0001"})

        [submitted] = recorded_since(ledger, before)
        assert type(submitted).__name__ == "Submitted"
        assert (submitted.batch_id, submitted.submitted_on, submitted.frequency,
                submitted.claim_version, submitted.interchange_control,
                submitted.transaction_control) == (
            "B1", SUBMITTED_ON, "1", 1, "000000101", "0001")
        claim = ledger.claim(claim_id)
        assert (claim.state, claim.first_submitted_on) == (ClaimState.SUBMITTED, SUBMITTED_ON)

    def test_a_batch_with_one_unready_claim_submits_none(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        ready = ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[0]])
        ledger.scrub_claim(ready)
        draft = ledger.create_claim(visit.encounter_id, line_ids=[visit.line_ids[1]])
        with refused(ledger, RuleViolation, f"claim {draft} is draft; it must be ready"):
            ledger.mark_submitted([ready, draft], batch_id="B1")
        with refused(ledger, NotFoundError, "no claim NOSUCH"):
            ledger.mark_submitted([ready, "NOSUCH"], batch_id="B1")
        assert ledger.claim(ready).state is ClaimState.READY

    def test_an_acceptance_keeps_the_payers_claim_number(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.accept_claim(claim_id, level="277CA", source="277:x",
                            payer_claim_control_number="ICN1")
        claim = ledger.claim(claim_id)
        assert (claim.state, claim.payer_claim_control_number) == (ClaimState.ACCEPTED, "ICN1")

    def test_a_rejected_claim_goes_back_out_as_a_new_original(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.reject_claim(claim_id, level="999", reasons=["IK5 R 4"], source="999:x",
                            rejected_on=date(2025, 1, 16))
        claim = ledger.claim(claim_id)
        assert claim.state is ClaimState.REJECTED
        assert claim.rejection == {"rejected_on": date(2025, 1, 16), "level": "999",
                                   "reasons": ["IK5 R 4"]}
        before = ledger.events_count()

        assert ledger.resend_rejected(claim_id, "fixed SE count") == []

        assert names(recorded_since(ledger, before)) == ["ResendStarted", "MarkedReady"]
        ledger.mark_submitted([claim_id], batch_id="B2")
        claim = ledger.claim(claim_id)
        assert [s["frequency"] for s in claim.submissions] == ["1", "1"]
        assert claim.rejection is None

    def test_acknowledgements_need_a_submitted_claim(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = ledger.create_claim(visit.encounter_id)
        with refused(ledger, RuleViolation, "is draft; it must be submitted or accepted"):
            ledger.accept_claim(claim_id, level="999", source="999:x")
        with refused(ledger, RuleViolation, "is draft; it must be submitted or accepted"):
            ledger.reject_claim(claim_id, level="999", reasons=["x"], source="999:x")
        with refused(ledger, RuleViolation, "is draft; it must be rejected"):
            ledger.resend_rejected(claim_id, "nothing to fix")


@pytest.fixture
def adjudicated(ledger: BillingLedger, visit: Visit) -> str:
    """The worked example's claim, paid by the primary (ICN PAYERCLM0001)."""
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    return claim_id


class TestCorrectedClaims:
    def test_a_replacement_is_frequency_7_for_the_payers_claim_number_with_new_lines(
        self, ledger: BillingLedger, visit: Visit, adjudicated: str,
    ) -> None:
        late = ledger.enter_charge(visit.encounter_id, "36415")
        before = ledger.events_count()

        assert ledger.start_replacement(adjudicated, "add the venipuncture") == []

        recorded = recorded_since(ledger, before)
        assert names(recorded) == ["ReplacementStarted", "MarkedReady", "LinesClaimed"]
        assert recorded[0].replaces_control_number == "PAYERCLM0001"
        claim = ledger.claim(adjudicated)
        assert (claim.frequency, claim.claim_version, claim.state) == ("7", 2, ClaimState.READY)
        assert claim.line_ids == [*visit.line_ids, late]
        assert claim.charge_cents == 22_500
        ledger.mark_submitted([adjudicated], batch_id="B2")
        assert ledger.claim(adjudicated).submissions[-1]["frequency"] == "7"

    def test_a_void_is_frequency_8_and_ready_to_send(
        self, ledger: BillingLedger, adjudicated: str,
    ) -> None:
        ledger.start_void(adjudicated, "billed the wrong patient")
        claim = ledger.claim(adjudicated)
        assert (claim.frequency, claim.claim_version, claim.state) == ("8", 2, ClaimState.READY)

    def test_a_correction_needs_an_adjudicated_claim_its_icn_and_a_reason(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        claim_id = submitted_claim(ledger, visit.encounter_id)
        for start in (ledger.start_replacement, ledger.start_void):
            with refused(ledger, RuleViolation, "is submitted; it must be adjudicated"):
                start(claim_id, "why")
        ledger.accept_claim(claim_id, level="999", source="999:x")
        for start in (ledger.start_replacement, ledger.start_void):
            with refused(ledger, RuleViolation, "has no payer claim control number"):
                start(claim_id, "why")
        ledger.accept_claim(claim_id, level="277CA", source="277:x",
                            payer_claim_control_number="ICN1")
        with refused(ledger, ValidationError, "a corrected claim needs a reason"):
            ledger.start_replacement(claim_id, " ")
        with refused(ledger, ValidationError, "a void needs a reason"):
            ledger.start_void(claim_id, "")


class TestWorkAndCloseClaims:
    def test_a_worked_denial_leaves_the_queue(self, ledger: BillingLedger, visit: Visit) -> None:
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
            svc("93000", 5_000, 0, cas("CO-50", 5_000))))
        line = visit.line_ids[1]
        with refused(ledger, ValidationError, "unknown denial action 'PRAY'"):
            ledger.work_denial(claim_id, line, "PRAY")
        with refused(ledger, RuleViolation, f"line {visit.line_ids[0]} of claim"):
            ledger.work_denial(claim_id, visit.line_ids[0], "APPEAL")
        before = ledger.events_count()

        ledger.work_denial(claim_id, line, "APPEAL", "records sent")

        [worked] = recorded_since(ledger, before)
        assert (type(worked).__name__, worked.action, worked.note, worked.worked_on) == (
            "DenialWorked", "APPEAL", "records sent", TODAY)
        assert ledger.claim(claim_id).open_denials == {}

    def test_a_claim_is_closed_once(self, ledger: BillingLedger, adjudicated: str) -> None:
        ledger.close_claim(adjudicated, "paid in full")
        assert ledger.claim(adjudicated).state is ClaimState.CLOSED
        with refused(ledger, RuleViolation, "already closed"):
            ledger.close_claim(adjudicated, "again")
