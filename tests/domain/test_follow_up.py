"""Working the A/R on the write side: assignment, follow-up calls, appeals and letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.errors import NotFoundError, PermissionDenied, RuleViolation, ValidationError
from domain.letters import content_hash
from tests.builders import (
    PAID_ON,
    TODAY,
    Practice,
    cas,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    remit,
    submitted_claim,
    svc,
)
from tests.conftest import LedgerFactory


@dataclass(frozen=True)
class Denied:
    account: str
    claim_id: str
    line_ids: tuple[str, ...]


def denied_claim(ledger: BillingLedger, *, rarcs: tuple[str, ...] = ()) -> Denied:
    """DOE's visit: the 99214 denied CO-197 (no authorization), the 93000 paid 30.00."""
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(remit(
        claim_id,
        svc("99214", 15_000, 0, cas("CO-197", 15_000), modifiers=("25",), rarcs=rarcs),
        svc("93000", 5_000, 3_000, cas("CO-45", 2_000))))
    return Denied(account, claim_id, visit.line_ids)


def owing_family(ledger: BillingLedger, statements: int = 1) -> str:
    """ROE, self-pay, owes 50.00 and has had `statements` statements (dunning levels 1..n)."""
    account = register_patient(ledger, last_name="ROE", first_name="JANE", coverage=(),
                               birth_date=date(1975, 6, 15), sex="F")
    open_visit(ledger, account, charges=("93000",), service_date=date(2024, 10, 1),
               self_pay=True)
    for n in range(statements):
        ledger.issue_statement(account, issued_on=date(2024, 11, 1) + timedelta(days=31 * n))
    return account


@pytest.fixture
def desk(ledger_factory: LedgerFactory, ledger: BillingLedger,
         practice: Practice) -> dict[str, BillingLedger]:
    """One ledger per role on the same store (an open demo ledger with role users)."""
    ledger.seed_role_users()
    return {role: ledger_factory(actor=role, seed=7)
            for role in ("registrar", "biller", "supervisor", "auditor", "admin")}


class TestAssignment:
    def test_a_supervisor_assigns_claims_and_accounts_to_a_biller(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        start = desk["biller"].events_count()
        refs = desk["supervisor"].assign_work(
            [f"claim:{denied.claim_id}", f"account:{denied.account}"], "biller",
            rule="payer=12345")
        assert refs == [f"claim:{denied.claim_id}", f"account:{denied.account}"]
        opened, assigned = recorded_since(desk["biller"], start)
        assert names([opened, assigned]) == ["Opened", "WorkAssigned"]
        assert (assigned.user, assigned.rule, assigned.actor) == (
            "biller", "payer=12345", "supervisor")
        assert desk["biller"].work_owners() == dict.fromkeys(refs, "biller")

    def test_reassigning_keeps_who_had_it(self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        ref = f"claim:{denied.claim_id}"
        desk["supervisor"].assign_work([ref], "biller")
        start = desk["biller"].events_count()
        desk["supervisor"].assign_work([ref], "supervisor")
        [event] = recorded_since(desk["biller"], start)
        assert event.previous == {ref: "biller"}
        with refused(desk["biller"], RuleViolation, "already works every one"):
            desk["supervisor"].assign_work([ref], "supervisor")
        desk["supervisor"].unassign_work([ref], "biller back from leave")
        assert desk["biller"].work_owners() == {}

    def test_only_a_supervisor_assigns(self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        for role in ("biller", "registrar", "auditor", "admin"):
            with refused(desk["biller"], PermissionDenied,
                         f"assign work needs the supervisor role; {role} has the {role} role"):
                desk[role].assign_work([f"claim:{denied.claim_id}"], "biller")
        with refused(desk["biller"], PermissionDenied, "unassign work needs the supervisor"):
            desk["biller"].unassign_work([f"claim:{denied.claim_id}"])

    def test_work_goes_to_billers_and_supervisors_of_this_ledger(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        ref = f"claim:{denied.claim_id}"
        with refused(desk["biller"], RuleViolation, "auditor has the auditor role; work goes"):
            desk["supervisor"].assign_work([ref], "auditor")
        with refused(desk["biller"], ValidationError, "no user nobody"):
            desk["supervisor"].assign_work([ref], "nobody")
        with refused(desk["biller"], NotFoundError, "no claim NOPE"):
            desk["supervisor"].assign_work(["claim:NOPE"], "biller")
        with refused(desk["biller"], ValidationError, "must be claim:CLAIM_ID"):
            desk["supervisor"].assign_work(["visit:1"], "biller")

    def test_a_dependent_is_worked_on_the_guarantor_account(
            self, desk: dict[str, BillingLedger]) -> None:
        parent = register_patient(desk["biller"], last_name="POE", first_name="ED")
        child = register_patient(desk["biller"], last_name="POE", first_name="KIM",
                                 guarantor=parent)
        assert desk["supervisor"].assign_work([f"account:{child}"], "biller") == [
            f"account:{parent}"]


class TestFollowUpCalls:
    def test_a_promise_to_pay_comes_back_the_day_after_the_promised_date(
            self, desk: dict[str, BillingLedger]) -> None:
        account = owing_family(desk["biller"])
        start = desk["biller"].events_count()
        activity = desk["biller"].log_follow_up(
            f"account:{account}", "call", "promise-to-pay", promise_on=date(2025, 3, 20),
            promise_cents=2_000, note="will pay 20 on the 20th", contact="guarantor")
        assert activity == f"{account}-1"
        opened, logged = recorded_since(desk["biller"], start)
        assert names([opened, logged]) == ["Opened", "ActivityLogged"]
        assert (logged.outcome, logged.promise_on, logged.promise_cents) == (
            "promise-to-pay", date(2025, 3, 20), 2_000)
        assert logged.next_action_on == date(2025, 3, 21)
        assert (logged.worked_on, logged.actor) == (TODAY, "biller")

    def test_default_ticklers_follow_the_outcome(self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        ref = f"claim:{denied.claim_id}"
        desk["biller"].log_follow_up(ref, "call", "payer-in-process", note="ref 123")
        desk["biller"].log_follow_up(ref, "call", "left-message",
                                     next_action_on=date(2025, 3, 11))
        desk["biller"].log_follow_up(ref, "call", "payer-denied", reason="CO-197")
        item = desk["biller"].work_item(ref)
        assert item is not None
        assert [a["next_action_on"] for a in item.activities] == [
            TODAY + timedelta(days=14), date(2025, 3, 11), None]

    def test_outcomes_must_fit_the_item_and_carry_their_details(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        account = owing_family(desk["biller"])
        biller = desk["biller"]
        with refused(biller, RuleViolation, "promise-to-pay is not an outcome for a claim"):
            biller.log_follow_up(f"claim:{denied.claim_id}", "call", "promise-to-pay",
                                 promise_on=date(2025, 3, 20), promise_cents=100)
        with refused(biller, RuleViolation, "payer-paid is not an outcome for an account"):
            biller.log_follow_up(f"account:{account}", "call", "payer-paid")
        with refused(biller, ValidationError, "needs the date and the amount"):
            biller.log_follow_up(f"account:{account}", "call", "promise-to-pay")
        with refused(biller, ValidationError, "promised date must be between"):
            biller.log_follow_up(f"account:{account}", "call", "promise-to-pay",
                                 promise_on=date(2025, 3, 1), promise_cents=100)
        with refused(biller, RuleViolation, "is more than account"):
            biller.log_follow_up(f"account:{account}", "call", "promise-to-pay",
                                 promise_on=date(2025, 3, 20), promise_cents=999_999)
        with refused(biller, ValidationError, "say why the payer denied it"):
            biller.log_follow_up(f"claim:{denied.claim_id}", "call", "payer-denied")
        with refused(biller, ValidationError, "channel must be call or letter"):
            biller.log_follow_up(f"account:{account}", "fax", "left-message")
        with refused(biller, ValidationError, "next action date must be between"):
            biller.log_follow_up(f"account:{account}", "call", "left-message",
                                 next_action_on=date(2025, 3, 9))

    def test_auditors_and_registrars_do_not_log_follow_up(
            self, desk: dict[str, BillingLedger]) -> None:
        account = owing_family(desk["biller"])
        for role in ("auditor", "registrar", "admin"):
            with refused(desk["biller"], PermissionDenied,
                         f"log follow up needs the biller or supervisor role; {role} has"):
                desk[role].log_follow_up(f"account:{account}", "call", "left-message")


class TestAppeals:
    def test_an_appeal_takes_its_deadline_from_the_contract_and_works_the_denial(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        start = desk["biller"].events_count()
        appeal_id = desk["biller"].file_appeal(
            denied.claim_id, "reconsideration", "The authorization was obtained on 2025-01-08 "
            "(ref AUTH-778); copy attached.")
        assert appeal_id == f"{denied.claim_id}-A1"
        events = recorded_since(desk["biller"], start)
        assert names(events) == ["Opened", "AppealFiled", "DenialWorked"]
        filed = events[1]
        assert (filed.denied_on, filed.deadline) == (PAID_ON, PAID_ON + timedelta(days=180))
        assert filed.deadline_basis == "contract K1: 180 days"
        assert filed.denials == [{"line_id": denied.line_ids[0], "group": "CO", "carc": "197",
                                  "rarcs": [], "amount_cents": 15_000}]
        assert events[2].action == "appealed"
        assert desk["biller"].claim(denied.claim_id).open_denials == {}
        with refused(desk["biller"], RuleViolation, "reconsideration appeal pending since"):
            desk["biller"].file_appeal(denied.claim_id, "second-level", "again")

    def test_no_appeal_after_the_window_closed(
            self, desk: dict[str, BillingLedger], frozen_clock: FrozenDateTimeFactory) -> None:
        denied = denied_claim(desk["biller"])
        frozen_clock.move_to(PAID_ON + timedelta(days=181))
        with refused(desk["biller"], RuleViolation,
                     "appeal window closed on 2025-07-31 \\(contract K1: 180 days\\)"):
            desk["biller"].file_appeal(denied.claim_id, "reconsideration", "late")

    def test_an_unprocessable_claim_has_no_appeal_rights(
            self, desk: dict[str, BillingLedger]) -> None:
        account = register_patient(desk["biller"])
        visit = open_visit(desk["biller"], account, charges=("93000",))
        claim_id = submitted_claim(desk["biller"], visit.encounter_id)
        desk["biller"].post_remittance(remit(
            claim_id, svc("93000", 5_000, 0, cas("CO-16", 5_000), rarcs=("MA130",))))
        with refused(desk["biller"], RuleViolation, "no appeal rights"):
            desk["biller"].file_appeal(claim_id, "reconsideration", "please")

    def test_a_paid_claim_has_nothing_to_appeal(self, desk: dict[str, BillingLedger]) -> None:
        account = register_patient(desk["biller"])
        visit = open_visit(desk["biller"], account, charges=("93000",))
        claim_id = submitted_claim(desk["biller"], visit.encounter_id)
        with refused(desk["biller"], RuleViolation, "no open denial to appeal"):
            desk["biller"].file_appeal(claim_id, "reconsideration", "please")

    def test_the_letter_is_built_from_the_claim_the_denial_and_the_argument(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        with refused(desk["biller"], RuleViolation, "no appeal: file one first"):
            desk["biller"].generate_appeal_letter(denied.claim_id)
        desk["biller"].file_appeal(denied.claim_id, "reconsideration",
                                   "Authorization AUTH-778 was on file before the visit.")
        start = desk["biller"].events_count()
        digest = desk["biller"].generate_appeal_letter(denied.claim_id)
        [event] = recorded_since(desk["biller"], start)
        assert names([event]) == ["AppealLetterGenerated"]
        assert event.sha256 == digest == content_hash(event.text)
        text = event.text
        for expected in (f"Claim id:           {denied.claim_id}", "Request for reconsideration",
                         "ACME HEALTH PLAN (12345)", "DOE, JOHN", "W" + denied.account + "1",
                         "CO-197", "Precertification/authorization", "Authorization AUTH-778",
                         "appeal deadline 2025-07-31", "Demo biller", "ACME MEDICAL GROUP",
                         "99214-25", "$150.00"):
            assert expected in text, expected
        pdf = desk["auditor"].appeal_letter_pdf(denied.claim_id)
        assert pdf.startswith(b"%PDF")
        assert denied.claim_id.encode() in pdf and digest.encode() in pdf
        assert desk["biller"].appeal_letter_pdf(denied.claim_id) == pdf   # deterministic
        with refused(desk["biller"], RuleViolation, "already has this very letter"):
            desk["biller"].generate_appeal_letter(denied.claim_id)

    def test_a_decision_closes_the_appeal_and_opens_the_next_level(
            self, desk: dict[str, BillingLedger], frozen_clock: FrozenDateTimeFactory) -> None:
        denied = denied_claim(desk["biller"])
        with refused(desk["biller"], RuleViolation, "no appeal pending"):
            desk["biller"].decide_appeal(denied.claim_id, "upheld")
        desk["biller"].file_appeal(denied.claim_id, "reconsideration", "auth on file")
        frozen_clock.move_to(date(2025, 4, 2))
        with refused(desk["biller"], ValidationError, "appeal outcome must be one of"):
            desk["biller"].decide_appeal(denied.claim_id, "maybe")
        assert desk["biller"].decide_appeal(denied.claim_id, "upheld",
                                            note="no auth found") == f"{denied.claim_id}-A1"
        second = desk["biller"].file_appeal(denied.claim_id, "second-level", "auth attached")
        item = desk["biller"].work_item(f"claim:{denied.claim_id}")
        assert item is not None and item.pending_appeal is not None
        assert item.pending_appeal["appeal_id"] == second
        assert item.pending_appeal["deadline"] == date(2025, 4, 2) + timedelta(days=180)
        desk["biller"].decide_appeal(denied.claim_id, "upheld")
        with refused(desk["biller"], RuleViolation, "already appealed at level second-level"):
            desk["biller"].file_appeal(denied.claim_id, "second-level", "again")

    def test_appeals_are_refused_to_auditors_and_registrars(
            self, desk: dict[str, BillingLedger]) -> None:
        denied = denied_claim(desk["biller"])
        for role in ("auditor", "registrar"):
            with refused(desk["biller"], PermissionDenied, "file appeal needs the biller or"):
                desk[role].file_appeal(denied.claim_id, "reconsideration", "x")
        desk["biller"].file_appeal(denied.claim_id, "reconsideration", "x")
        for role in ("auditor", "registrar"):
            with refused(desk["biller"], PermissionDenied, "generate appeal letter needs"):
                desk[role].generate_appeal_letter(denied.claim_id)
            with refused(desk["biller"], PermissionDenied, "decide appeal needs"):
                desk[role].decide_appeal(denied.claim_id, "overturned")


class TestFollowUpLetters:
    def test_a_dunning_letter_follows_the_last_statement(
            self, desk: dict[str, BillingLedger]) -> None:
        account = owing_family(desk["biller"], statements=2)
        start = desk["biller"].events_count()
        letter_id = desk["biller"].issue_follow_up_letter(account, "dunning")
        assert letter_id == f"{account}-L1"
        opened, issued = recorded_since(desk["biller"], start)
        assert names([opened, issued]) == ["Opened", "FollowUpLetterIssued"]
        assert (issued.letter_kind, issued.dunning_level, issued.balance_cents) == (
            "dunning", 2, 5_000)
        assert issued.sha256 == content_hash(issued.text)
        assert "PAST DUE" in issued.text and "ROE, JANE" in issued.text
        assert "financial assistance" in issued.text and "$50.00" in issued.text
        pdf = desk["biller"].follow_up_letter_pdf(account)
        assert pdf.startswith(b"%PDF") and account.encode() in pdf
        with refused(desk["biller"], RuleViolation, "already issued"):
            desk["biller"].issue_follow_up_letter(account, "dunning")

    def test_the_pre_collection_notice_comes_after_the_final_notice(
            self, desk: dict[str, BillingLedger]) -> None:
        account = owing_family(desk["biller"], statements=2)
        with refused(desk["biller"], RuleViolation, "follows the final notice"):
            desk["biller"].issue_follow_up_letter(account, "pre-collection")
        desk["biller"].issue_statement(account, issued_on=date(2025, 1, 5))
        desk["biller"].issue_follow_up_letter(account, "pre-collection")
        letter = desk["biller"].follow_up_letter(account)
        assert letter["kind"] == "pre-collection" and letter["dunning_level"] == 3
        words = " ".join(letter["text"].split())
        assert "may be referred to a collection agency" in words
        assert "arranged with us, by 2025-04-09" in words

    def test_no_letter_without_a_statement_or_for_the_wrong_role(
            self, desk: dict[str, BillingLedger]) -> None:
        account = owing_family(desk["biller"], statements=0)
        with refused(desk["biller"], RuleViolation, "no statement yet"):
            desk["biller"].issue_follow_up_letter(account, "dunning")
        desk["biller"].issue_statement(account)
        with refused(desk["biller"], ValidationError, "letter must be one of"):
            desk["biller"].issue_follow_up_letter(account, "love-letter")
        for role in ("auditor", "registrar"):
            with refused(desk["biller"], PermissionDenied, "issue follow up letter needs"):
                desk[role].issue_follow_up_letter(account, "dunning")
