"""Work queues: given these commands, these rows in each queue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.application import BillingLedger
from domain.errors import NotFoundError
from projections.queries import BillingQueries
from tests.builders import (
    PRIMARY,
    SECONDARY,
    TODAY,
    Practice,
    cas,
    open_visit,
    register_patient,
    remit,
    submitted_claim,
    svc,
    worked_example_remit,
)


def items(queries: BillingQueries, name: str, as_of: date = TODAY) -> list[dict]:
    return queries.queue(name, as_of=as_of)["items"]


def test_the_queue_list_names_every_queue_of_issue_3(queries: BillingQueries) -> None:
    assert queries.queue_names() == [
        "unbilled", "ready", "rejected", "denials", "no-response", "timely-filing",
        "underpaid", "credit-balances", "delinquent", "collections", "eligibility"]
    with pytest.raises(NotFoundError, match="no queue 'nope'"):
        queries.queue("nope")


def test_unbilled_lists_what_a_payer_owes_on_lines_no_claim_to_it_holds(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
    visit = open_visit(ledger, account, charges=["99213"], service_date=date(2025, 2, 1))
    assert items(queries, "unbilled") == [{
        "account_no": account, "encounter_id": visit.encounter_id,
        "line_id": visit.line_ids[0], "payer_id": PRIMARY, "plan_id": "ACMEPPO",
        "code": "99213", "service_date": date(2025, 2, 1), "amount_cents": 10_000,
        "age_days": 37}]
    claim_id = submitted_claim(ledger, visit.encounter_id)
    assert items(queries, "unbilled") == []
    ledger.post_remittance(remit(claim_id, svc("99213", 10_000, 5_000, cas("CO-45", 3_000),
                                               cas("PR-2", 2_000))))
    # The coinsurance moved to the secondary, which has no claim yet.
    assert [(r["payer_id"], r["amount_cents"]) for r in items(queries, "unbilled")] == [
        (SECONDARY, 2_000)]


def test_ready_and_rejected_claims(ledger: BillingLedger, practice: Practice,
                                   queries: BillingQueries) -> None:
    account = register_patient(ledger)
    first = open_visit(ledger, account, charges=["99213"])
    ready_id = ledger.create_claim(first.encounter_id)
    ledger.scrub_claim(ready_id)
    second = open_visit(ledger, account, charges=["93000"])
    rejected_id = submitted_claim(ledger, second.encounter_id)
    ledger.reject_claim(rejected_id, level="277CA", reasons=["A7:164 member id invalid"],
                        source="277ca:test", rejected_on=date(2025, 3, 3))

    (ready,) = items(queries, "ready")
    (rejected,) = items(queries, "rejected")

    assert (ready["claim_id"], ready["amount_cents"], ready["ready_on"]) == (
        ready_id, 10_000, TODAY)
    assert (rejected["claim_id"], rejected["rejected_on"], rejected["level"],
            rejected["reasons"]) == (rejected_id, date(2025, 3, 3), "277CA",
                                     "A7:164 member id invalid")


def test_denials_are_grouped_by_reason_with_the_rule_table_action(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(remit(
        claim_id,
        svc("99214", 15_000, 0, cas("CO-50", 15_000), modifiers=("25",)),
        svc("93000", 5_000, 0, cas("CO-16", 5_000), rarcs=("MA130",))))

    groups = items(queries, "denials")

    assert [(g["group"], g["carc"], g["rarc"], g["action"], g["count"], g["amount_cents"])
            for g in groups] == [("CO", "50", "", "APPEAL", 1, 15_000),
                                 ("CO", "16", "MA130", "FIX", 1, 5_000)]
    assert groups[0]["lines"] == [{
        "claim_id": claim_id, "line_id": visit.line_ids[0], "account_no": account,
        "payer_id": PRIMARY, "amount_cents": 15_000, "denied_on": date(2025, 2, 1)}]
    ledger.work_denial(claim_id, visit.line_ids[0], "APPEAL", "records sent")
    assert [g["carc"] for g in items(queries, "denials")] == ["16"]


def test_no_response_waits_for_the_payers_expected_days(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id,
                               submitted_on=date(2025, 2, 1))

    assert items(queries, "no-response", as_of=date(2025, 3, 3)) == []     # day 30
    (late,) = items(queries, "no-response", as_of=date(2025, 3, 4))         # day 31
    assert (late["claim_id"], late["expected_days"], late["days_waiting"]) == (
        claim_id, 30, 31)


def test_timely_filing_lists_unfiled_work_whose_deadline_is_within_30_days(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    as_of = TODAY
    # Contract K1 allows 365 days: DOS 340 days ago is due in 25 days, 300 days ago in 65.
    due_soon = open_visit(ledger, account, charges=["99213"],
                          service_date=as_of - timedelta(days=340))
    open_visit(ledger, account, charges=["36415"], service_date=as_of - timedelta(days=300))
    rejected = open_visit(ledger, account, charges=["93000"],
                          service_date=as_of - timedelta(days=370))
    claim_id = ledger.create_claim(rejected.encounter_id)
    ledger.override_filing_limit(claim_id, "proof of timely filing on file")
    ledger.scrub_claim(claim_id)
    ledger.mark_submitted([claim_id], batch_id="B9")
    ledger.reject_claim(claim_id, level="999", reasons=["IK5*R"], source="999:test")

    rows = items(queries, "timely-filing")

    assert [(r["claim_id"], r["state"], r["encounter_id"], r["days_left"], r["override"],
             r["amount_cents"]) for r in rows] == [
        (claim_id, "rejected", rejected.encounter_id, -5, True, 5_000),
        ("", "unbilled", due_soon.encounter_id, 25, False, 10_000)]
    assert rows[1]["deadline"] == as_of + timedelta(days=25)


def test_underpaid_lines_are_paid_below_the_contract_fee_schedule(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    # 99214 allows 100.00: paid 70 + PR 20 = 90 is 10 short; 93000 allows 30: 24 + 6 is not.
    ledger.post_remittance(remit(
        claim_id,
        svc("99214", 15_000, 7_000, cas("CO-45", 6_000), cas("PR-2", 2_000), modifiers=("25",)),
        svc("93000", 5_000, 2_400, cas("CO-45", 2_000), cas("PR-2", 600))))

    assert items(queries, "underpaid") == [{
        "claim_id": claim_id, "account_no": account, "line_id": visit.line_ids[0],
        "payer_id": PRIMARY, "plan_id": "ACMEPPO", "code": "99214", "modifiers": "25",
        "service_date": date(2025, 1, 10), "expected_cents": 10_000, "paid_cents": 7_000,
        "patient_share_cents": 2_000, "allowed_cents": 9_000, "variance_cents": 1_000,
        "amount_cents": 1_000}]


def test_credit_balances_per_guarantor_and_party(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    ledger.post_patient_payment(account, 6_000, paid_on=date(2025, 3, 5))
    ledger.request_refund(account, 500, reason="overpaid")

    (credit,) = items(queries, "credit-balances")

    assert {k: credit[k] for k in ("guarantor_account_no", "party", "credit_cents",
                                   "refund_requested_cents")} == {
        "guarantor_account_no": account, "party": "PATIENT", "credit_cents": 1_000,
        "refund_requested_cents": 500}


class TestQueueReading:
    def test_sort_search_filter_and_pages(self, ledger: BillingLedger, practice: Practice,
                                          queries: BillingQueries) -> None:
        doe = register_patient(ledger)
        roe = register_patient(ledger, last_name="ROE")
        open_visit(ledger, doe, charges=["99213"], service_date=date(2025, 1, 5))
        open_visit(ledger, roe, charges=["99214", "36415"], service_date=date(2025, 2, 5))

        def amounts(**kwargs: object) -> list[int]:
            return [r["amount_cents"] for r in queries.queue("unbilled", as_of=TODAY,
                                                             **kwargs)["items"]]

        assert amounts() == [10_000, 15_000, 2_500]                  # oldest visit first
        assert amounts(sort="amount_cents") == [2_500, 10_000, 15_000]
        assert amounts(sort="amount_cents", descending=True) == [15_000, 10_000, 2_500]
        assert amounts(sort="-amount_cents", limit=1, offset=1) == [10_000]
        assert amounts(search=roe.lower()) == [15_000, 2_500]
        assert amounts(filter={"code": "36415"}) == [2_500]
        page = queries.queue("unbilled", as_of=TODAY, limit=2)
        assert (page["count"], page["total_cents"], len(page["items"])) == (3, 27_500, 2)
