"""The dashboard's collections per month, and the ledger's responsibility split after each row."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries
from tests.builders import (
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)


@pytest.fixture
def collected(ledger: BillingLedger, ledger_factory: Any, practice: Practice,
              queries: BillingQueries) -> dict[str, str]:
    """PRIMARY pays $80 on Feb 1; DOE pays $60 on Mar 5 ($10 over) and gets $10 back on Mar 10
    (today); ROE's self-pay $50 goes to an agency, which recovers $20 on Feb 15."""
    doe = register_patient(ledger)
    claim_id = submitted_claim(ledger, open_visit(ledger, doe).encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    ledger.post_patient_payment(doe, 6_000, paid_on=date(2025, 3, 5))
    request_id = ledger.request_refund(doe, 1_000, reason="overpaid")
    supervisor = ledger_factory(actor="supervisor")
    supervisor.approve_refund(doe, request_id)
    queries.catch_up()
    roe = register_patient(ledger, last_name="ROE", first_name="JANE", coverage=())
    open_visit(ledger, roe, charges=("93000",), service_date=date(2024, 12, 1), self_pay=True)
    ledger.refer_to_collections(roe, "ACME COLLECTIONS", referred_on=date(2025, 1, 20))
    ledger.record_agency_recovery(roe, 2_000, recovered_on=date(2025, 2, 15))
    return {"doe": doe, "roe": roe}


def month(name: str, insurance: int = 0, patient: int = 0, agency: int = 0,
          refunds: int = 0) -> dict[str, Any]:
    payments = insurance + patient + agency
    return {"month": name, "insurance_cents": insurance, "patient_cents": patient,
            "agency_cents": agency, "payments_cents": payments, "refunds_cents": refunds,
            "net_cents": payments - refunds}


class TestCollectionsByMonth:
    def test_payments_by_who_paid_and_refunds_per_month_oldest_first(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        answer = queries.collections_by_month(date(2025, 3, 10), months=3)
        assert answer["months"] == [
            month("2025-01"),
            month("2025-02", insurance=8_000, agency=2_000),
            month("2025-03", patient=6_000, refunds=1_000)]
        assert {k: v for k, v in answer.items() if k != "months"} == {
            "as_of": date(2025, 3, 10), "insurance_cents": 8_000, "patient_cents": 6_000,
            "agency_cents": 2_000, "payments_cents": 16_000, "refunds_cents": 1_000,
            "net_cents": 15_000}

    def test_the_last_month_runs_only_to_the_as_of_date(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        answer = queries.collections_by_month(date(2025, 3, 6), months=1)
        assert answer["months"] == [month("2025-03", patient=6_000)]

    def test_twelve_months_by_default_across_the_year_end(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        months = queries.collections_by_month(date(2025, 3, 10))["months"]
        assert [m["month"] for m in months] == [
            "2024-04", "2024-05", "2024-06", "2024-07", "2024-08", "2024-09", "2024-10",
            "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
        assert [m["month"] for m in queries.collections_by_month(
            date(2025, 1, 31), months=2)["months"]] == ["2024-12", "2025-01"]

    def test_net_collections_agree_with_the_kpis_money(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        kpis = queries.kpis(as_of=date(2025, 3, 10), period_days=365)
        assert queries.collections_by_month(date(2025, 3, 10))["net_cents"] == (
            kpis["payments_cents"])

    def test_months_must_be_positive(self, queries: BillingQueries) -> None:
        with pytest.raises(ValueError, match="months must be positive"):
            queries.collections_by_month(date(2025, 3, 10), months=0)


class TestSplitAfterEachRow:
    def test_insurance_patient_and_agency_after_each_event_sum_to_the_balance(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        for account in collected.values():
            for row in queries.account_history(account):
                assert (row["insurance_cents"] + row["patient_cents"] + row["agency_cents"]
                        == row["balance_cents"]), row

    def test_the_worked_example_moves_from_the_payer_to_the_patient(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        history = queries.account_history(collected["doe"])
        split = [(h["type"], h["insurance_cents"], h["patient_cents"], h["agency_cents"])
                 for h in history if h["amount_cents"] or h["type"] in (
                     "ResponsibilityTransferred", "RefundIssued")]
        assert split[:7] == [
            ("ChargeEntered", 15_000, 0, 0), ("ChargeEntered", 20_000, 0, 0),
            ("PaymentPosted", 12_000, 0, 0), ("AdjustmentPosted", 7_000, 0, 0),
            ("ResponsibilityTransferred", 5_000, 2_000, 0),
            ("AdjustmentPosted", 3_000, 2_000, 0),
            ("ResponsibilityTransferred", 0, 5_000, 0)]
        assert split[-1][1:] == (0, 0, 0)
        final = queries.account(collected["doe"])
        assert (history[-1]["insurance_cents"], history[-1]["patient_cents"],
                history[-1]["agency_cents"]) == (
            final["insurance_cents"], final["patient_cents"], final["agency_cents"])

    def test_a_referral_moves_the_patient_share_to_the_agency(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        history = queries.account_history(collected["roe"], as_of=date(2025, 1, 31))
        assert (history[-1]["patient_cents"], history[-1]["agency_cents"]) == (0, 0)
        assert any(h["agency_cents"] == 5_000 for h in history)
        final = queries.account(collected["roe"])
        last = queries.account_history(collected["roe"])[-1]
        assert (last["patient_cents"], last["agency_cents"]) == (
            final["patient_cents"], final["agency_cents"])

    def test_pages_start_from_the_split_before_them(
            self, queries: BillingQueries, collected: dict[str, str]) -> None:
        history = queries.account_history(collected["doe"])
        assert queries.account_history(collected["doe"], limit=3, offset=12) == history[12:15]
        assert queries.account_history(collected["doe"], offset=5) == history[5:]
        assert queries.account_history(collected["doe"], limit=0) == []
