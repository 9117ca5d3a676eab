"""Account balances, history and A/R aging from the read models, on a real ledger file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.errors import NotFoundError
from projections.queries import BillingQueries
from tests.builders import (
    PRIMARY,
    SECONDARY,
    TODAY,
    Practice,
    open_visit,
    register_patient,
    reversal_of,
    submitted_claim,
    worked_example_correction,
    worked_example_remit,
)


def worked_example(ledger: BillingLedger) -> tuple[str, str, tuple[str, ...], str]:
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    return account, visit.encounter_id, visit.line_ids, claim_id


class TestAccount:
    def test_after_the_worked_example_the_patient_owes_the_pr_amounts(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account, encounter_id, (l1, l2), claim_id = worked_example(ledger)

        answer = queries.account(account)

        assert {k: answer[k] for k in (
            "balance_cents", "insurance_cents", "patient_cents", "agency_cents",
            "credit_cents", "at_agency_cents", "by_party")} == {
            "balance_cents": 5_000, "insurance_cents": 0, "patient_cents": 5_000,
            "agency_cents": 0, "credit_cents": 0, "at_agency_cents": 0,
            "by_party": {"PATIENT": 5_000}}
        assert [(c["payer_id"], c["plan_name"], c["member_id"]) for c in answer["coverage"]] == [
            (PRIMARY, "Acme PPO", f"W{account}1")]
        (encounter,) = answer["encounters"]
        assert encounter["encounter_id"] == encounter_id
        assert [(x["line_id"], x["code"], x["modifiers"], x["charge_cents"], x["balance_cents"],
                 x["by_party"], x["claims"]) for x in encounter["lines"]] == [
            (l1, "99214", ["25"], 15_000, 2_000, {"PATIENT": 2_000}, {PRIMARY: claim_id}),
            (l2, "93000", [], 5_000, 3_000, {"PATIENT": 3_000}, {PRIMARY: claim_id})]
        assert answer["claims"] == [{
            "claim_id": claim_id, "encounter_id": encounter_id, "payer_id": PRIMARY,
            "payer_name": "ACME HEALTH PLAN", "plan_id": "ACMEPPO", "coverage_order": "P",
            "state": "adjudicated", "frequency": "1", "service_date": date(2025, 1, 10),
            "charge_cents": 20_000, "paid_cents": 8_000, "outcome": "paid",
            "first_submitted_on": date(2025, 1, 15),
            "payer_claim_control_number": "PAYERCLM0001", "open_denials": 0}]

    def test_as_of_a_date_counts_only_postings_effective_by_then(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account, *_ = worked_example(ledger)

        before_era = queries.account(account, as_of=date(2025, 1, 31))
        before_dos = queries.account(account, as_of=date(2025, 1, 9))

        assert before_era["by_party"] == {PRIMARY: 20_000}
        assert before_era["insurance_cents"] == 20_000
        assert before_dos["balance_cents"] == 0
        assert before_dos["encounters"] == []

    def test_an_unknown_account_is_not_found(self, queries: BillingQueries) -> None:
        with pytest.raises(NotFoundError, match="no account A404"):
            queries.account("A404")
        with pytest.raises(NotFoundError):
            queries.account_history("A404")

    def test_payers_are_listed_in_coverage_order_then_patient(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        visit = open_visit(ledger, account)
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[0], SECONDARY, "PATIENT",
                                500)

        assert list(queries.account(account)["by_party"].items()) == [
            (SECONDARY, 4_500), ("PATIENT", 500)]


class TestAccountList:
    def test_lists_accounts_by_name_with_balances_and_searches(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        doe, *_ = worked_example(ledger)
        roe = register_patient(ledger, last_name="ROE", first_name="JANE")

        everyone = queries.accounts()
        assert [(a["account_no"], a["name"], a["balance_cents"], a["patient_cents"])
                for a in everyone] == [(doe, "DOE, JOHN", 5_000, 5_000), (roe, "ROE, JANE", 0, 0)]
        assert everyone[0]["birth_date"] == date(1980, 1, 1)
        assert [a["account_no"] for a in queries.accounts(search="jane")] == [roe]
        assert [a["account_no"] for a in queries.accounts(search=doe)] == [doe]
        assert [a["account_no"] for a in queries.accounts(limit=1, offset=1)] == [roe]
        assert [a["account_no"] for a in queries.accounts(offset=1)] == [roe]


class TestHistory:
    def test_every_event_of_the_account_in_order_with_a_running_balance(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account, _, lines, claim_id = worked_example(ledger)

        history = queries.account_history(account)

        assert [h["type"] for h in history] == [
            "Registered", "PolicyAdded", "Opened", "VisitRecorded", "ChargeEntered",
            "ChargeEntered", "Created", "LinesClaimed", "MarkedReady", "Submitted",
            "Adjudicated", "PaymentPosted", "AdjustmentPosted", "ResponsibilityTransferred",
            "AdjustmentPosted", "ResponsibilityTransferred"]
        assert [h["balance_cents"] for h in history][4:] == [
            15_000, 20_000, 20_000, 20_000, 20_000, 20_000, 20_000, 12_000, 7_000, 7_000,
            5_000, 5_000]
        payment = history[11]
        assert payment["amount_cents"] == -8_000
        assert payment["claim_id"] == claim_id and payment["line_id"] == lines[0]
        assert payment["effective_date"] == date(2025, 2, 1)
        assert payment["recorded_at"] == datetime(2025, 3, 10, tzinfo=UTC)
        assert payment["actor"] == "biller"
        assert payment["details"]["party"] == PRIMARY
        assert history[12]["details"]["carc"] == "45"
        assert history[-1]["balance_cents"] == queries.account(account)["balance_cents"]

    def test_the_last_running_balance_matches_the_account_as_of_any_date(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account, *_ = worked_example(ledger)
        ledger.post_patient_payment(account, 1_000, paid_on=date(2025, 3, 1))
        for day in (date(2025, 1, 9), date(2025, 1, 10), date(2025, 2, 1), date(2025, 3, 1)):
            history = queries.account_history(account, as_of=day)
            balance = history[-1]["balance_cents"] if history else 0
            assert balance == queries.account(account, as_of=day)["balance_cents"], day


class TestBitemporal:
    def test_known_at_excludes_events_recorded_later_even_when_effective_earlier(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            frozen_clock: FrozenDateTimeFactory) -> None:
        account = register_patient(ledger)
        visit = open_visit(ledger, account)
        claim_id = submitted_claim(ledger, visit.encounter_id)
        month_end = date(2025, 3, 31)
        frozen_clock.move_to(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
        closed_books = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
        frozen_clock.move_to(datetime(2025, 4, 3, 9, 0, tzinfo=UTC))
        # A late ERA: paid in March, posted in April after the books closed.
        ledger.post_remittance(worked_example_remit(claim_id, paid_on=date(2025, 3, 28)))

        as_it_stood = queries.account(account, as_of=month_end, known_at=closed_books)
        as_known_now = queries.account(account, as_of=month_end)
        aging_then = queries.aging(month_end, known_at=closed_books)
        aging_now = queries.aging(month_end)

        assert as_it_stood["by_party"] == {PRIMARY: 20_000}
        assert as_known_now["by_party"] == {"PATIENT": 5_000}
        assert aging_then["total_cents"] - aging_now["total_cents"] == 15_000
        assert queries.account_history(account, as_of=month_end, known_at=closed_books)[-1][
            "balance_cents"] == 20_000


class TestAging:
    def test_balances_age_from_the_date_of_service_with_inclusive_upper_bounds(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        as_of = TODAY
        account = register_patient(ledger)
        for age in (30, 31, 120, 121):
            open_visit(ledger, account, charges=["99213"],
                       service_date=as_of - timedelta(days=age))
        self_pay = register_patient(ledger, last_name="ROE", coverage=())
        open_visit(ledger, self_pay, charges=["36415"], self_pay=True,
                   service_date=as_of - timedelta(days=61))

        report = queries.aging(as_of)

        assert report == {
            "as_of": as_of, "basis": "dos", "total_cents": 42_500, "credit_cents": 0,
            "buckets": {
                "0-30": {"insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0},
                "31-60": {"insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0},
                "61-90": {"insurance_cents": 0, "patient_cents": 2_500, "agency_cents": 0},
                "91-120": {"insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0},
                "121+": {"insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0},
            },
            "by": [],
        }

    def test_a_patient_credit_is_reported_apart_and_not_netted_into_buckets(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account, *_ = worked_example(ledger)
        other = register_patient(ledger, last_name="ROE")
        open_visit(ledger, other, charges=["99213"])
        ledger.post_patient_payment(account, 5_800, paid_on=date(2025, 3, 5))

        report = queries.aging(TODAY, by="payer")

        assert report["credit_cents"] == 800
        assert report["total_cents"] == 10_000
        assert report["buckets"]["31-60"] == {
            "insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0}
        assert [(g["payer_id"], g["total_cents"], g["credit_cents"]) for g in report["by"]] == [
            (PRIMARY, 10_000, 0), ("PATIENT", 0, 800)]
        assert queries.account(account)["credit_cents"] == 800

    def test_billed_basis_ages_from_first_submission(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = register_patient(ledger)
        visit = open_visit(ledger, account, service_date=date(2024, 11, 1))
        submitted_claim(ledger, visit.encounter_id, submitted_on=date(2025, 2, 1))

        by_dos = queries.aging(TODAY)
        by_billed = queries.aging(TODAY, basis="billed", by="plan")
        before_billing = queries.aging(date(2025, 1, 31), basis="billed")

        assert by_dos["buckets"]["121+"]["insurance_cents"] == 20_000
        assert by_billed["buckets"]["31-60"]["insurance_cents"] == 20_000
        assert [g["plan_id"] for g in by_billed["by"]] == ["ACMEPPO"]
        assert before_billing["buckets"]["91-120"]["insurance_cents"] == 20_000


def test_a_reversal_and_correction_leave_the_corrected_balance(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account, _, _, claim_id = worked_example(ledger)
    original = worked_example_remit(claim_id)
    ledger.post_remittance(reversal_of(original, paid_on=date(2025, 3, 1)))
    assert queries.account(account)["by_party"] == {PRIMARY: 20_000}
    ledger.post_remittance(worked_example_correction(claim_id, paid_on=date(2025, 3, 1)))

    answer = queries.account(account)

    assert answer["by_party"] == {"PATIENT": 5_200}
    assert answer["claims"][0]["paid_cents"] == 8_800
    assert queries.account(account, as_of=date(2025, 2, 28))["by_party"] == {"PATIENT": 5_000}


def test_history_pages_join_up_with_the_running_balance(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account, *_ = worked_example(ledger)
    everything = queries.account_history(account)

    pages = [queries.account_history(account, limit=5, offset=o) for o in range(0, 20, 5)]

    assert [row for page in pages for row in page] == everything
    assert queries.account_history(account, offset=10) == everything[10:]
    assert queries.account_history_count(account) == len(everything) == 16
