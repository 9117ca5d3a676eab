"""Claim-level CAS beside line detail: the money posted for a claim is exactly CLP04."""

from __future__ import annotations

from domain.application import BillingLedger
from tests.builders import (
    cas,
    open_visit,
    register_patient,
    remit,
    reversal_of,
    submitted_claim,
    svc,
)


def test_a_claim_level_deductible_reduces_the_payment_to_clp04(
        ledger: BillingLedger, practice: object) -> None:
    visit = open_visit(ledger, register_patient(ledger))
    claim = submitted_claim(ledger, visit.encounter_id)
    # Lines say 150 + 50 paid; a claim-level PR-1 of 50 leaves CLP04 = 150.
    era = remit(claim, svc("99214", 15_000, 15_000, modifiers=("25",)),
                svc("93000", 5_000, 5_000), claim_adjustments=[cas("PR-1", 5_000)],
                paid_cents=15_000)
    result = ledger.post_remittance(era)
    encounter = ledger.encounter(visit.encounter_id)
    assert result.paid_cents == 15_000
    paid = sum(line["totals"]["payment"] for line in encounter.lines.values())
    assert paid == 15_000
    assert encounter.balances_by_party() == {"PATIENT": 5_000}


def test_reversing_it_restores_the_payer_balance(
        ledger: BillingLedger, practice: object) -> None:
    visit = open_visit(ledger, register_patient(ledger))
    claim = submitted_claim(ledger, visit.encounter_id)
    era = remit(claim, svc("99214", 15_000, 15_000, modifiers=("25",)),
                svc("93000", 5_000, 5_000), claim_adjustments=[cas("PR-1", 5_000)],
                paid_cents=15_000)
    ledger.post_remittance(era)
    ledger.post_remittance(reversal_of(era, paid_on=era.paid_on))
    assert ledger.encounter(visit.encounter_id).balances_by_party() == {"12345": 20_000}


def test_a_void_is_confirmed_when_the_payer_reverses_the_claim(
        ledger: BillingLedger, practice: object) -> None:
    from domain.claim import ClaimState

    visit = open_visit(ledger, register_patient(ledger))
    claim = submitted_claim(ledger, visit.encounter_id)
    era = remit(claim, svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
                svc("93000", 5_000, 3_000, cas("CO-45", 2_000)))
    ledger.post_remittance(era)
    ledger.start_void(claim, "billed to the wrong payer")
    ledger.mark_submitted([claim], batch_id="B2")
    result = ledger.post_remittance(reversal_of(era, paid_on=era.paid_on, source="era:void"))
    assert result.outcome == "voided"
    assert ledger.claim(claim).state is ClaimState.VOIDED
    lines = ledger.encounter(visit.encounter_id).lines
    assert all(not line["claims"] for line in lines.values())
    # The lines can be billed again.
    assert ledger.create_claim(visit.encounter_id)
