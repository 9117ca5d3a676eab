"""KPIs over a trailing period: money from postings, rates from claims, SLAs from timestamps."""

from __future__ import annotations

from datetime import date

from domain.application import BillingLedger
from projections.queries import BillingQueries
from tests.builders import (
    TODAY,
    Practice,
    cas,
    open_visit,
    register_patient,
    remit,
    reversal_of,
    submitted_claim,
    svc,
    worked_example_remit,
)


def test_kpis_of_the_worked_example_and_a_denied_claim(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    paid = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
    ledger.post_remittance(worked_example_remit(paid))
    denied_visit = open_visit(ledger, account, charges=["99213"], service_date=date(2025, 2, 3))
    denied = submitted_claim(ledger, denied_visit.encounter_id, submitted_on=date(2025, 2, 10),
                             batch_id="B2")
    ledger.post_remittance(remit(denied, svc("99213", 10_000, 0, cas("CO-50", 10_000)),
                                 paid_on=date(2025, 3, 1)))

    figures = queries.kpis(TODAY)

    assert figures == {
        "as_of": TODAY, "period_days": 90,
        "days_in_ar": 45.0,                  # 15,000 / (30,000 / 90)
        "net_ar_cents": 15_000, "ar_over_90_pct": 0.0,
        "gross_charges_cents": 30_000, "payments_cents": 8_000, "contractual_cents": 7_000,
        "gross_collection_rate": 26.7, "net_collection_rate": 34.8,
        "claims_first_submitted": 2, "first_pass_acceptance_rate": 100.0,
        "clean_claim_rate": 50.0, "claims_adjudicated": 2, "denial_rate": 50.0,
        "denial_rate_dollars": 33.3, "denied_claims": 1, "denied_cents": 10_000,
        "sla": {"era_to_posting_days": 23.0, "denial_to_first_action_days": None,
                "denials_awaiting_action": 1, "dos_to_first_submission_days": 6.0},
    }


def test_a_reversed_contractual_adjustment_nets_out_of_the_net_collection_rate(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
    original = worked_example_remit(claim_id)
    ledger.post_remittance(original)
    ledger.post_remittance(reversal_of(original, paid_on=date(2025, 3, 1)))

    figures = queries.kpis(TODAY)

    assert (figures["payments_cents"], figures["contractual_cents"]) == (0, 0)
    assert figures["net_ar_cents"] == 20_000
