"""Posting a payer's adjudication (an 835 CLP loop): DOMAIN.md §4, reversals, COB, denials."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.claim import ClaimState, Outcome
from domain.errors import RuleViolation, ValidationError
from domain.ledger import PATIENT, Category
from domain.remittance import ServiceRemit, UnmatchedRemitError
from tests.builders import (
    PAID_ON,
    PRIMARY,
    SECONDARY,
    Practice,
    Visit,
    cas,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    remit,
    reversal_of,
    submitted_claim,
    svc,
    worked_example_correction,
    worked_example_remit,
)

REVERSED_ON = date(2025, 3, 1)


def buckets(ledger: BillingLedger, visit: Visit) -> list[dict[str, int]]:
    encounter = ledger.encounter(visit.encounter_id)
    return [dict(encounter.line(i)["buckets"]) for i in visit.line_ids]


def totals(ledger: BillingLedger, visit: Visit, category: Category) -> list[int]:
    encounter = ledger.encounter(visit.encounter_id)
    return [encounter.line(i)["totals"][category] for i in visit.line_ids]


@pytest.fixture
def visit(ledger: BillingLedger, practice: Practice) -> Visit:
    """DOMAIN §4's visit for a patient covered by PRIMARY only."""
    return open_visit(ledger, register_patient(ledger))


@pytest.fixture
def claim_id(ledger: BillingLedger, visit: Visit) -> str:
    return submitted_claim(ledger, visit.encounter_id)


class TestWorkedExample:
    """DOMAIN.md §4: paid 80, CO-45 70 written off, PR 50 to the patient; reversal; 88."""

    def test_the_payment_contractual_write_off_and_patient_share_post_to_the_cent(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = ledger.post_remittance(worked_example_remit(claim_id))

        assert (result.paid_cents, result.written_off_cents, result.transferred,
                result.denied_cents, result.outcome) == (
            8_000, 7_000, {PATIENT: 5_000}, 0, Outcome.PAID)
        assert result.balances == {PATIENT: 5_000}
        recorded = recorded_since(ledger, before)
        assert names(recorded) == [
            "Adjudicated", "PaymentPosted", "AdjustmentPosted", "ResponsibilityTransferred",
            "AdjustmentPosted", "ResponsibilityTransferred"]
        assert result.events == len(recorded)
        payment, co45, pr2 = recorded[1:4]
        assert (payment.party, payment.amount_cents, payment.method, payment.reference) == (
            PRIMARY, 8_000, "ERA", "PAYERCLM0001")
        assert (co45.group, co45.carc, co45.kind, co45.amount_cents) == (
            "CO", "45", "contractual", 5_000)
        assert (pr2.from_party, pr2.to_party, pr2.amount_cents, pr2.reason) == (
            PRIMARY, PATIENT, 2_000, "PR-2")
        assert all(e.effective_on == PAID_ON for e in recorded[1:])
        assert all(e.actor == "biller" for e in recorded)
        assert payment.source.endswith(":SVC1") and recorded[4].source.endswith(":SVC2")

        assert buckets(ledger, visit) == [{PATIENT: 2_000}, {PATIENT: 3_000}]
        assert totals(ledger, visit, Category.PAYMENT) == [8_000, 0]
        assert totals(ledger, visit, Category.ADJUSTMENT) == [5_000, 2_000]
        assert ledger.encounter(visit.encounter_id).balance_cents == 5_000
        claim = ledger.claim(claim_id)
        assert (claim.state, claim.outcome, claim.payer_claim_control_number) == (
            ClaimState.ADJUDICATED, Outcome.PAID, "PAYERCLM0001")

    def test_the_reversal_returns_every_line_to_its_exact_prior_buckets(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        prior = buckets(ledger, visit)
        original = worked_example_remit(claim_id)
        ledger.post_remittance(original)
        before = ledger.events_count()

        result = ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON))

        assert prior == [{PRIMARY: 15_000}, {PRIMARY: 5_000}]
        assert buckets(ledger, visit) == prior
        assert totals(ledger, visit, Category.PAYMENT) == [0, 0]
        assert totals(ledger, visit, Category.ADJUSTMENT) == [0, 0]
        assert (result.outcome, result.paid_cents, result.balances) == (
            "reversed", -8_000, {PRIMARY: 20_000})
        recorded = recorded_since(ledger, before)
        assert sorted(names(recorded)) == ["AdjudicationReversed"] + ["EntryReversed"] * 5
        reversals = [e for e in recorded if type(e).__name__ == "EntryReversed"]
        assert all(e.effective_on == REVERSED_ON for e in reversals)
        assert {e.reason for e in reversals} == {"payer reversal (CLP02=22)"}
        claim = ledger.claim(claim_id)
        assert (claim.state, claim.outcome) == (ClaimState.ACCEPTED, None)
        assert [a["reversed"] for a in claim.adjudications] == [True]

    def test_the_correction_after_the_reversal_pays_88_and_bills_the_patient_52(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        original = worked_example_remit(claim_id)
        ledger.post_remittance(original)
        # One 835: the reversal first, then the corrected claim (BPR02 = -80 + 88 = 8).
        ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON))
        result = ledger.post_remittance(worked_example_correction(claim_id,
                                                                  paid_on=REVERSED_ON))

        assert (result.paid_cents, result.written_off_cents, result.transferred) == (
            8_800, 6_000, {PATIENT: 5_200})
        assert buckets(ledger, visit) == [{PATIENT: 2_200}, {PATIENT: 3_000}]
        assert totals(ledger, visit, Category.PAYMENT) == [8_800, 0]
        assert totals(ledger, visit, Category.ADJUSTMENT) == [4_000, 2_000]
        claim = ledger.claim(claim_id)
        assert claim.payer_claim_control_number == "PAYERCLM0002"
        assert [(a["payer_claim_control_number"], a["reversed"]) for a in claim.adjudications] == [
            ("PAYERCLM0001", True), ("PAYERCLM0002", False)]
        assert (claim.state, claim.outcome) == (ClaimState.ADJUDICATED, Outcome.PAID)

    def test_a_reversal_after_the_patient_paid_leaves_them_a_credit(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        original = worked_example_remit(claim_id)
        ledger.post_remittance(original)
        ledger.post_patient_payment(visit.account_no, 5_000, paid_on=date(2025, 2, 20))
        ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON))

        assert buckets(ledger, visit) == [{PRIMARY: 15_000, PATIENT: -2_000},
                                          {PRIMARY: 5_000, PATIENT: -3_000}]
        assert ledger.credit_cents(visit.account_no) == 5_000
        assert ledger.encounter(visit.encounter_id).balance_cents == 15_000

    def test_a_dry_run_reports_the_posting_and_records_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = ledger.post_remittance(worked_example_remit(claim_id), dry_run=True)

        assert (result.paid_cents, result.balances, result.events) == (
            8_000, {PATIENT: 5_000}, 6)
        assert ledger.events_count() == before
        assert buckets(ledger, visit) == [{PRIMARY: 15_000}, {PRIMARY: 5_000}]


class TestSecondaryPayer:
    def test_patient_responsibility_moves_to_the_next_payer_in_coverage_order(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))
        primary_claim = submitted_claim(ledger, visit.encounter_id)

        result = ledger.post_remittance(worked_example_remit(primary_claim))

        assert result.transferred == {SECONDARY: 5_000}
        assert buckets(ledger, visit) == [{SECONDARY: 2_000}, {SECONDARY: 3_000}]

    def test_the_secondary_pays_its_share_and_its_patient_responsibility_goes_to_the_patient(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))
        ledger.post_remittance(worked_example_remit(submitted_claim(ledger, visit.encounter_id)))
        secondary_claim = submitted_claim(ledger, visit.encounter_id, SECONDARY, batch_id="B2")
        assert ledger.claim(secondary_claim).coverage_order == "S"
        assert ledger.claim(secondary_claim).line_ids == list(visit.line_ids)

        result = ledger.post_remittance(remit(
            secondary_claim,
            svc("99214", 15_000, 2_000, cas("OA-23", 13_000), modifiers=("25",)),
            svc("93000", 5_000, 2_500, cas("OA-23", 2_000), cas("PR-1", 500)),
            status_code="2", icn="BETA0001", paid_on=date(2025, 2, 20)))

        assert (result.paid_cents, result.written_off_cents, result.transferred) == (
            4_500, 0, {PATIENT: 500})
        assert buckets(ledger, visit) == [{}, {PATIENT: 500}]
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 500}


class TestDenials:
    def test_a_denied_line_stays_with_the_payer_and_is_queued_on_the_claim(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
            svc("93000", 5_000, 0, cas("CO-50", 5_000), rarcs=("N115",))))

        assert (result.outcome, result.denied_cents) == (Outcome.PARTIALLY_PAID, 5_000)
        assert names(recorded_since(ledger, before)) == [
            "Adjudicated", "PaymentPosted", "AdjustmentPosted"]
        assert buckets(ledger, visit) == [{}, {PRIMARY: 5_000}]
        claim = ledger.claim(claim_id)
        [denial] = claim.open_denials[visit.line_ids[1]]
        assert {k: denial[k] for k in ("group", "carc", "rarcs", "amount_cents", "action")} == {
            "group": "CO", "carc": "50", "rarcs": ["N115"], "amount_cents": 5_000,
            "action": "APPEAL"}
        assert list(claim.open_denials) == [visit.line_ids[1]]

    def test_a_claim_with_nothing_paid_and_only_denials_is_denied(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        result = ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 0, cas("CO-197", 15_000), modifiers=("25",)),
            svc("93000", 5_000, 0, cas("CO-50", 5_000))))

        assert (result.outcome, result.denied_cents, result.paid_cents) == (
            Outcome.DENIED, 20_000, 0)
        assert buckets(ledger, visit) == [{PRIMARY: 15_000}, {PRIMARY: 5_000}]
        assert ledger.claim(claim_id).outcome == Outcome.DENIED

    def test_informational_adjustments_move_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        result = ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 15_000, modifiers=("25",)),
            svc("93000", 5_000, 0, cas("OA-18", 5_000))))
        assert (result.outcome, result.denied_cents) == (Outcome.PAID, 0)
        assert buckets(ledger, visit) == [{}, {PRIMARY: 5_000}]

    @pytest.mark.parametrize("group_and_carc", ["CO-50", "PI-50"])
    def test_a_contractual_or_payer_initiated_denial_is_never_billed_to_the_patient(
        self, ledger: BillingLedger, visit: Visit, claim_id: str, group_and_carc: str,
    ) -> None:
        ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
            svc("93000", 5_000, 0, cas(group_and_carc, 5_000))))
        with refused(ledger, RuleViolation, "may not be billed to the patient"):
            ledger.transfer_denial_to_patient(claim_id, visit.line_ids[1])

    def test_an_other_adjustment_denial_can_be_billed_to_the_patient(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
            svc("93000", 5_000, 0, cas("OA-27", 5_000))))  # after coverage terminated
        with refused(ledger, RuleViolation, f"line {visit.line_ids[0]} of claim .* no open"):
            ledger.transfer_denial_to_patient(claim_id, visit.line_ids[0])
        before = ledger.events_count()

        ledger.transfer_denial_to_patient(claim_id, visit.line_ids[1], "no other coverage")

        assert sorted(names(recorded_since(ledger, before))) == [
            "DenialWorked", "ResponsibilityTransferred"]
        assert buckets(ledger, visit) == [{}, {PATIENT: 5_000}]
        assert ledger.claim(claim_id).open_denials == {}

    def test_a_denied_line_the_payer_no_longer_holds_cannot_be_billed_to_the_patient(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        ledger.post_remittance(remit(
            claim_id,
            svc("99214", 15_000, 15_000, modifiers=("25",)),
            svc("93000", 5_000, 0, cas("OA-27", 5_000))))
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[1], PRIMARY, PATIENT)
        with refused(ledger, ValidationError, f"nothing is left with {PRIMARY}"):
            ledger.transfer_denial_to_patient(claim_id, visit.line_ids[1])


class TestMatchingServicesToLines:
    def test_the_line_item_control_number_wins_over_the_code(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        ledger.post_remittance(remit(
            claim_id,
            svc("93000", 5_000, 5_000, line_ref=visit.line_ids[1]),
            svc("99213", 15_000, 15_000, line_ref=visit.line_ids[0])))  # payer recoded
        assert totals(ledger, visit, Category.PAYMENT) == [15_000, 5_000]

    def test_a_recoded_service_matches_on_its_original_code(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        recoded = replace(svc("99213", 15_000, 9_000, cas("CO-45", 6_000), modifiers=("25",)),
                          original_code="99214")
        ledger.post_remittance(remit(claim_id, recoded, svc("93000", 5_000, 5_000)))
        assert totals(ledger, visit, Category.PAYMENT) == [9_000, 5_000]

    def test_identical_lines_are_matched_one_each(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger), charges=["36415", "36415"])
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.post_remittance(remit(claim_id, svc("36415", 2_500, 1_000, cas("CO-45", 1_500)),
                                     svc("36415", 2_500, 800, cas("CO-45", 1_700))))
        assert totals(ledger, visit, Category.PAYMENT) == [1_000, 800]

    def test_claim_level_adjustments_post_on_the_first_line_and_say_so(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        ledger.post_remittance(remit(
            claim_id, svc("99214", 15_000, 15_000, modifiers=("25",)),
            svc("93000", 5_000, 5_000), claim_adjustments=[cas("CO-253", 400)],
            paid_cents=19_600))
        adjustment = next(e for e in recorded_since(ledger, before)
                          if type(e).__name__ == "AdjustmentPosted")
        assert (adjustment.line_id, adjustment.carc, adjustment.amount_cents) == (
            visit.line_ids[0], "253", 400)
        assert adjustment.source.endswith(":claim-level")

    def test_a_claim_level_only_payment_is_spread_by_what_the_payer_holds(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        ledger.post_remittance(remit(claim_id, paid_cents=10_001))
        assert totals(ledger, visit, Category.PAYMENT) == [7_501, 2_500]


class TestRemittanceRefusals:
    def test_a_remittance_for_a_claim_we_never_made_is_unmatched(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        with refused(ledger, UnmatchedRemitError, "claim NOTOURS is not in the ledger"):
            ledger.post_remittance(remit("NOTOURS", svc("99214", 100, 100)))

    def test_a_service_that_fits_no_line_is_unmatched_and_nothing_posts(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        with refused(ledger, UnmatchedRemitError, "service 2 .*matches none of its lines"):
            ledger.post_remittance(remit(claim_id, svc("99214", 15_000, 15_000),
                                         svc("71045", 5_000, 5_000)))

    def test_a_claim_never_sent_cannot_be_adjudicated(
        self, ledger: BillingLedger, visit: Visit,
    ) -> None:
        draft = ledger.create_claim(visit.encounter_id)
        with refused(ledger, RuleViolation, f"claim {draft} is draft; it was never sent"):
            ledger.post_remittance(worked_example_remit(draft))

    def test_the_same_adjudication_posts_once(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        ledger.post_remittance(worked_example_remit(claim_id))
        with refused(ledger, RuleViolation, "is already posted"):
            ledger.post_remittance(worked_example_remit(claim_id))

    def test_a_reversal_needs_a_posted_adjudication_and_the_same_amount(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        original = worked_example_remit(claim_id)
        with refused(ledger, RuleViolation, "has no posted adjudication PAYERCLM0001"):
            ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON))
        ledger.post_remittance(original)
        short = replace(reversal_of(original, paid_on=REVERSED_ON), paid_cents=-7_000)
        with refused(ledger, RuleViolation, "takes back 7000 cents but 8000 were posted"):
            ledger.post_remittance(short)
        ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON))
        with refused(ledger, RuleViolation, "has no posted adjudication"):
            ledger.post_remittance(reversal_of(original, paid_on=REVERSED_ON, source="again"))

    def test_an_adjustment_group_5010_does_not_know_is_refused(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        services: Any = (ServiceRemit("99214", ("25",), 15_000, 10_000, (cas("CR-45", 5_000),)),
                         svc("93000", 5_000, 5_000))
        with refused(ledger, ValidationError, "CR"):
            ledger.post_remittance(remit(claim_id, *services))
