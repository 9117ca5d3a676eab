"""Statement runs, delinquency and collection candidates, as of a date (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date, timedelta

from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from projections.patient_side import cycle_of, cycle_on
from projections.queries import BillingQueries
from tests.builders import (
    PRIMARY,
    TODAY,
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)


def patient_owes_50(ledger: BillingLedger, **kwargs: object) -> str:
    """DOMAIN §4's visit after the payer: the patient owes $50.00 (PR-2 20 + PR-1 30)."""
    account = register_patient(ledger, **kwargs)  # type: ignore[arg-type]
    claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    return account


class TestStatementRun:
    def test_statements_go_to_families_with_a_balance_due_and_skip_the_rest(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        owes = patient_owes_50(ledger)
        pending = register_patient(ledger, last_name="ROE")
        visit = open_visit(ledger, pending, charges=["99213"])
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[0], PRIMARY, "PATIENT",
                                1_500)
        on_plan = patient_owes_50(ledger, last_name="POE")
        ledger.agree_payment_plan(on_plan, 1_000)
        register_patient(ledger, last_name="NOE")           # owes nothing: not mentioned

        run = queries.statement_run(TODAY, all_cycles=True)

        assert [(c["guarantor_account_no"], c["balance_cents"], c["next_dunning_level"])
                for c in run["candidates"]] == [(owes, 5_000, 1)]
        assert sorted((h["guarantor_account_no"], h["reason"]) for h in run["held"]) == sorted([
            (pending, "insurance pending"), (on_plan, "payment plan current")])

    def test_one_statement_per_30_days_and_the_dunning_level_climbs(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = patient_owes_50(ledger)
        ledger.issue_statement(account, issued_on=date(2025, 3, 1))

        soon = queries.statement_run(date(2025, 3, 30), all_cycles=True)
        later = queries.statement_run(date(2025, 3, 31), all_cycles=True)

        assert soon["candidates"] == []
        assert soon["held"][0]["reason"] == "statement issued within 30 days"
        assert [(c["statements"], c["next_dunning_level"]) for c in later["candidates"]] == [
            (1, 2)]

    def test_cycle_billing_states_a_guarantor_only_in_its_week(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = patient_owes_50(ledger)
        days = [TODAY + timedelta(days=7 * week) for week in range(4)]
        ours = [d for d in days if cycle_on(d) == cycle_of(account)]

        stated = [d for d in days if queries.statement_run(d)["candidates"]]

        assert stated == ours and len(ours) == 1


class TestCollections:
    def test_a_family_dunned_three_times_without_paying_becomes_a_candidate(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            frozen_clock: FrozenDateTimeFactory) -> None:
        account = patient_owes_50(ledger)
        for issued in (date(2025, 3, 10), date(2025, 4, 10), date(2025, 5, 10)):
            frozen_clock.move_to(issued)
            ledger.issue_statement(account)
        assert [s["dunning_level"] for s in queries.account(account)["statements"]] == [1, 2, 3]

        assert queries.collection_candidates(date(2025, 7, 7)) == []      # day 119
        (candidate,) = queries.collection_candidates(date(2025, 7, 8))     # day 120
        assert {k: candidate[k] for k in (
            "guarantor_account_no", "balance_cents", "oldest_line_days", "final_notice_on",
            "dunning_statements")} == {
            "guarantor_account_no": account, "balance_cents": 5_000, "oldest_line_days": 120,
            "final_notice_on": date(2025, 5, 10), "dunning_statements": 3}
        assert queries.queue("collections", as_of=date(2025, 7, 8))["count"] == 1

        frozen_clock.move_to(date(2025, 7, 8))
        ledger.refer_to_collections(account, "ACME COLLECT")
        after = queries.account(account)
        assert (after["balance_cents"], after["at_agency_cents"]) == (0, 5_000)
        assert after["referral"]["agency"] == "ACME COLLECT"
        assert queries.collection_candidates(date(2025, 7, 8)) == []

    def test_a_recent_payment_or_a_current_plan_keeps_a_family_out(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            frozen_clock: FrozenDateTimeFactory) -> None:
        paid = patient_owes_50(ledger)
        planned = patient_owes_50(ledger, last_name="ROE")
        for issued in (date(2025, 3, 10), date(2025, 4, 10), date(2025, 5, 10)):
            frozen_clock.move_to(issued)
            ledger.issue_statement(paid)
            ledger.issue_statement(planned)
        frozen_clock.move_to(date(2025, 6, 1))
        ledger.post_patient_payment(paid, 100, paid_on=date(2025, 6, 1))
        ledger.agree_payment_plan(planned, 1_000)

        assert queries.collection_candidates(date(2025, 7, 8)) == []


def test_delinquent_when_the_statement_falls_due_unpaid(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        frozen_clock: FrozenDateTimeFactory) -> None:
    account = patient_owes_50(ledger)
    ledger.issue_statement(account, issued_on=date(2025, 3, 1))          # due 2025-03-31

    assert queries.delinquent(date(2025, 3, 31)) == []
    (late,) = queries.delinquent(date(2025, 4, 10))
    assert (late["guarantor_account_no"], late["due_on"], late["days_past_due"],
            late["dunning_level"], late["balance_cents"]) == (
        account, date(2025, 3, 31), 10, 1, 5_000)
    frozen_clock.move_to(date(2025, 4, 5))
    ledger.post_patient_payment(account, 1_000, paid_on=date(2025, 4, 5))
    assert queries.delinquent(date(2025, 4, 10)) == []
