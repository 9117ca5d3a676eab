"""The pure fold: given these events, these rows (no database involved)."""

from __future__ import annotations

from datetime import date

from domain.application import BillingLedger
from projections.catchup import fact_of
from projections.queries import BillingQueries
from projections.rows import Fold
from projections.state import MemoryState
from tests.builders import (
    PRIMARY,
    PRIMARY_PLAN,
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)

STAMP = "2025-03-10T00:00:00.000000+00:00"   # the frozen clock of the `ledger` fixture


def fold_all(ledger: BillingLedger, start: int = 0) -> MemoryState:
    state = MemoryState()
    fold = Fold(state)
    for notification in ledger.iter_notifications(start=start + 1):
        fold.apply(fact_of(notification, ledger.mapper))
    return state


def test_a_remittance_becomes_one_posting_row_per_party_and_bucket_move(
        ledger: BillingLedger, practice: Practice) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    before = ledger.events_count()
    ledger.post_remittance(worked_example_remit(claim_id))
    l1, l2 = visit.line_ids
    enc = visit.encounter_id

    rows = [r for r in fold_all(ledger).table("postings") if r["position"] > before]

    def row(position: int, seq: int, event: str, line: str, party: str, category: str,
            amount: int, bucket: int, balance: int, entry: int, **extra: str) -> dict:
        base = {
            "position": before + position, "seq": seq, "recorded_at": STAMP,
            "effective_on": "2025-02-01", "actor": "biller", "event_type": event,
            "encounter_id": enc, "account_no": account, "guarantor_account_no": account,
            "line_id": line, "claim_id": claim_id if party == PRIMARY else "",
            "plan_id": PRIMARY_PLAN if party == PRIMARY else "", "party": party,
            "category": category, "amount_cents": amount, "bucket_delta": bucket,
            "balance_delta": balance, "kind": "", "adjustment_group": "", "carc": "",
            "rarcs": "", "reason": "", "source": f"era:test:{claim_id}:PAYERCLM0001:1:SVC1",
            "entry_id": f"{enc}.{entry}", "reverses_entry_id": ""}
        return {**base, **extra}

    svc2 = f"era:test:{claim_id}:PAYERCLM0001:1:SVC2"
    assert rows == [
        row(2, 0, "PaymentPosted", l1, PRIMARY, "payment", 8_000, -8_000, -8_000, 1,
            reason="ERA"),
        row(3, 0, "AdjustmentPosted", l1, PRIMARY, "adjustment", 5_000, -5_000, -5_000, 2,
            kind="contractual", adjustment_group="CO", carc="45", reason="CO-45"),
        row(4, 0, "ResponsibilityTransferred", l1, PRIMARY, "transfer", 2_000, -2_000, 0, 3,
            reason="PR-2"),
        row(4, 1, "ResponsibilityTransferred", l1, "PATIENT", "transfer", 2_000, 2_000, 0, 3,
            reason="PR-2"),
        row(5, 0, "AdjustmentPosted", l2, PRIMARY, "adjustment", 2_000, -2_000, -2_000, 4,
            kind="contractual", adjustment_group="CO", carc="45", reason="CO-45", source=svc2),
        row(6, 0, "ResponsibilityTransferred", l2, PRIMARY, "transfer", 3_000, -3_000, 0, 5,
            reason="PR-1", source=svc2),
        row(6, 1, "ResponsibilityTransferred", l2, "PATIENT", "transfer", 3_000, 3_000, 0, 5,
            reason="PR-1", source=svc2),
    ]


def test_a_claim_row_follows_the_claim_through_submission_and_adjudication(
        ledger: BillingLedger, practice: Practice) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))

    (claim,) = fold_all(ledger).table("claims")

    assert claim == {
        "claim_id": claim_id, "encounter_id": visit.encounter_id, "account_no": account,
        "payer_id": PRIMARY, "plan_id": PRIMARY_PLAN, "policy_id": f"{account}-1",
        "coverage_order": "P", "line_ids": list(visit.line_ids), "charge_cents": 20_000,
        "billing_npi": practice.billing_npi, "service_date": "2025-01-10",
        "created_on": "2025-03-10", "state": "adjudicated", "state_on": "2025-02-01",
        "frequency": "1", "claim_version": 1, "problems": [], "filing_override": None,
        "submissions": 1, "first_submitted_on": "2025-01-15",
        "last_submitted_on": "2025-01-15", "batch_id": "B1", "first_response": "accepted",
        "first_response_on": "2025-02-01", "accepted_on": None,
        "payer_claim_control_number": "PAYERCLM0001", "rejection": None,
        "adjudications": [{
            "adjudication_id": f"era:test:{claim_id}:PAYERCLM0001:1", "status_code": "1",
            "paid_cents": 8_000, "outcome": "paid", "paid_on": "2025-02-01",
            "reversed": False, "denied_cents": 0, "recorded_at": STAMP}],
        "outcome": "paid", "paid_cents": 8_000, "first_adjudicated_on": "2025-02-01",
        "first_outcome": "paid", "submissions_at_first_adjudication": 1, "ever_denied": 0,
        "denied_cents": 0, "open_denials": {}, "denial_recorded_at": None,
        "denial_first_action_at": None, "voided_on": None, "closed_on": None,
        "recorded_at": STAMP, "position": claim["position"],
    }


def test_every_event_of_a_patients_streams_is_a_history_row_and_practice_events_are_not(
        ledger: BillingLedger, practice: Practice) -> None:
    practice_events = ledger.events_count()
    account = register_patient(ledger)
    visit = open_visit(ledger, account, charges=["99213"])

    history = fold_all(ledger).table("events")

    assert history == [
        {"position": practice_events + 1, "event_type": "Registered", "account_no": account,
         "encounter_id": "", "claim_id": "", "effective_on": "2025-03-10",
         "recorded_at": STAMP, "amount_cents": 0, "money": 0},
        {"position": practice_events + 2, "event_type": "PolicyAdded", "account_no": account,
         "encounter_id": "", "claim_id": "", "effective_on": "2024-01-01",
         "recorded_at": STAMP, "amount_cents": 0, "money": 0},
        {"position": practice_events + 3, "event_type": "Opened", "account_no": account,
         "encounter_id": visit.encounter_id, "claim_id": "", "effective_on": "2025-01-10",
         "recorded_at": STAMP, "amount_cents": 0, "money": 0},
        {"position": practice_events + 4, "event_type": "VisitRecorded",
         "account_no": account, "encounter_id": "", "claim_id": "",
         "effective_on": "2025-01-10", "recorded_at": STAMP, "amount_cents": 0, "money": 0},
        {"position": practice_events + 5, "event_type": "ChargeEntered",
         "account_no": account, "encounter_id": visit.encounter_id, "claim_id": "",
         "effective_on": "2025-01-10", "recorded_at": STAMP, "amount_cents": 10_000,
         "money": 1},
    ]


def test_a_history_row_shows_what_its_stored_event_says(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account, charges=["99213"])

    history = queries.account_history(account)

    # Read off the events, not stored in the history rows: aggregate, actor, line, details.
    actors = {n.id: ledger.mapper.to_domain_event(n).actor
              for n in ledger.iter_notifications(start=1)}
    assert [(e["aggregate"], e["type"], e["actor"], e["line_id"]) for e in history] == [
        ("PatientAccount", "Registered", actors[history[0]["position"]], ""),
        ("PatientAccount", "PolicyAdded", actors[history[1]["position"]], ""),
        ("Encounter", "Opened", actors[history[2]["position"]], ""),
        ("PatientAccount", "VisitRecorded", actors[history[3]["position"]], ""),
        ("Encounter", "ChargeEntered", actors[history[4]["position"]], visit.line_ids[0]),
    ]
    assert all(e["actor"] for e in history)

    assert history[0]["details"] == {"account_no": account, "registered_on": "2025-03-10"}
    assert history[1]["details"] == {
        "policy_id": f"{account}-1", "payer_id": PRIMARY, "plan_id": PRIMARY_PLAN,
        "relationship": "18", "effective_on": "2024-01-01", "terminates_on": None,
        "filing_indicator": "CI", "coverage_order": [f"{account}-1"]}


def test_folding_twice_gives_identical_rows(ledger: BillingLedger, practice: Practice) -> None:
    account = register_patient(ledger)
    visit = open_visit(ledger, account, service_date=date(2025, 2, 3))
    submitted_claim(ledger, visit.encounter_id)

    first, second = fold_all(ledger), fold_all(ledger)

    for table in ("postings", "events", "accounts", "encounters", "lines", "claims"):
        assert first.table(table) == second.table(table)


def test_the_fast_json_path_and_the_mappers_objects_fold_to_the_same_rows(
        ledger: BillingLedger, practice: Practice) -> None:
    account = register_patient(ledger)
    ledger.correct_demographics(account, "typo", birth_date=date(1980, 1, 2))
    policy = ledger.account(account).coverage_order[0]
    ledger.record_eligibility(account, policy, active=True, service_on=date(2025, 1, 10),
                              copay_cents=2_000)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    ledger.issue_statement(account, issued_on=date(2025, 3, 1))
    ledger.agree_payment_plan(account, 1_000)
    ledger.miss_installment(account, date(2025, 4, 1))
    ledger.post_patient_payment(account, 6_000, paid_on=date(2025, 3, 5))
    ledger.terminate_coverage(account, policy, date(2025, 3, 1))
    self_pay = register_patient(ledger, last_name="ROE", coverage=())
    ledger.grant_discount(self_pay, "self-pay", 20, effective_on=date(2025, 1, 1))
    open_visit(ledger, self_pay, charges=["99213"], self_pay=True)

    fast, careful = MemoryState(), MemoryState()
    for notification in ledger.iter_notifications():
        Fold(fast).apply(fact_of(notification, ledger.mapper))
        Fold(careful).apply(fact_of(notification, ledger.mapper, fast=False))

    for table in ("postings", "events", "accounts", "encounters", "lines", "claims",
                  "statements", "statement_lines", "payment_plans", "contracts", "streams"):
        assert fast.table(table) == careful.table(table), table
    (acct,) = [a for a in fast.table("accounts") if a["account_no"] == account]
    assert acct["birth_date"] == "1980-01-02"
    assert acct["policies"][policy]["terminated_on"] == "2025-03-01"
    assert acct["eligibility"][policy]["copay_cents"] == 2_000
