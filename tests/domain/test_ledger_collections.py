"""BillingLedger patient side: statements and dunning, payment plans, collections, families."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.application import BillingLedger
from domain.errors import NotFoundError, RuleViolation, ValidationError
from domain.ledger import AGENCY, PATIENT, Category, LedgerAccount, journal_entry_for
from tests.builders import (
    PRIMARY,
    TODAY,
    Practice,
    Visit,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
)

AGENCY_NAME = "ACME RECOVERY"


@pytest.fixture
def owed(ledger: BillingLedger, practice: Practice) -> tuple[Visit, Visit]:
    """An uninsured guarantor owing $100 (January visit) and $50 (February visit)."""
    account = register_patient(ledger, coverage=())
    return (open_visit(ledger, account, charges=["99213"], service_date=date(2025, 1, 10)),
            open_visit(ledger, account, charges=["93000"], service_date=date(2025, 2, 10)))


def account_of(owed: tuple[Visit, Visit]) -> str:
    return owed[0].account_no


def balances(ledger: BillingLedger, visits: tuple[Visit, ...]) -> dict[str, int]:
    total: dict[str, int] = {}
    for visit in visits:
        for party, cents in ledger.encounter(visit.encounter_id).balances_by_party().items():
            total[party] = total.get(party, 0) + cents
    return {party: cents for party, cents in total.items() if cents}


class TestStatements:
    def test_a_statement_lists_what_the_guarantor_owes_and_is_due_in_30_days(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        statement_id = ledger.issue_statement(account)

        [issued] = recorded_since(ledger, ledger.events_count() - 1)
        assert type(issued).__name__ == "StatementIssued"
        assert (issued.statement_id, issued.issued_on, issued.due_on) == (
            statement_id, TODAY, TODAY + timedelta(days=30))
        assert (issued.dunning_level, issued.balance_cents) == (1, 15_000)
        assert [(row["line_id"], row["patient_cents"], row["code"]) for row in issued.lines] == [
            (owed[0].line_ids[0], 10_000, "99213"), (owed[1].line_ids[0], 5_000, "93000")]

    def test_each_unanswered_statement_raises_the_dunning_level_up_to_four(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        for month in range(1, 7):
            ledger.issue_statement(account, issued_on=date(2025, month, 1))
        assert [s["dunning_level"] for s in ledger.account(account).statements] == [
            1, 2, 3, 4, 4, 4]

    def test_a_patient_payment_starts_the_dunning_over(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        ledger.issue_statement(account, issued_on=date(2025, 1, 15))
        ledger.issue_statement(account, issued_on=date(2025, 2, 15))
        ledger.post_patient_payment(account, 1_000, paid_on=date(2025, 2, 20))
        ledger.issue_statement(account, issued_on=date(2025, 3, 1))

        statements = ledger.account(account).statements
        assert [s["dunning_level"] for s in statements] == [1, 2, 1]
        assert statements[-1]["balance_cents"] == 14_000

    def test_an_account_that_owes_nothing_gets_no_statement(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        ledger.post_patient_payment(account, 15_000)
        with refused(ledger, RuleViolation, f"account {account} has no patient balance due"):
            ledger.issue_statement(account)

    def test_what_insurance_still_owes_is_not_on_the_statement(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        visit = open_visit(ledger, account)
        with refused(ledger, RuleViolation, "has no patient balance due"):
            ledger.issue_statement(account)
        ledger.transfer_balance(visit.encounter_id, visit.line_ids[1], PRIMARY, PATIENT, 3_000)
        ledger.issue_statement(account)
        assert ledger.account(account).statements[0]["balance_cents"] == 3_000


class TestPaymentPlans:
    def test_a_plan_covers_the_patient_balance_and_starts_today_by_default(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        plan_id = ledger.agree_payment_plan(account, 5_000, autopay_reference="ACH-77")

        [agreed] = recorded_since(ledger, ledger.events_count() - 1)
        assert type(agreed).__name__ == "PaymentPlanAgreed"
        assert (agreed.plan_id, agreed.total_cents, agreed.installment_cents) == (
            plan_id, 15_000, 5_000)
        assert (agreed.frequency_days, agreed.starts_on, agreed.autopay_reference) == (
            30, TODAY, "ACH-77")
        assert ledger.account(account).has_current_plan

    def test_two_missed_installments_default_the_plan(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        ledger.agree_payment_plan(account, 5_000)
        ledger.miss_installment(account, date(2025, 4, 9))
        assert ledger.account(account).payment_plan["status"] == "current"
        before = ledger.events_count()

        ledger.miss_installment(account, date(2025, 5, 9))

        missed, defaulted = recorded_since(ledger, before)
        assert names([missed, defaulted]) == ["InstallmentMissed", "PaymentPlanDefaulted"]
        assert (defaulted.defaulted_on, defaulted.reason) == (
            date(2025, 5, 9), "2 installments missed")
        assert not ledger.account(account).has_current_plan
        with refused(ledger, RuleViolation, "has no current payment plan"):
            ledger.miss_installment(account, date(2025, 6, 9))

    def test_while_a_plan_is_current_dunning_is_suppressed_and_resumes_on_default(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        ledger.issue_statement(account, issued_on=date(2025, 1, 15))
        ledger.agree_payment_plan(account, 5_000, starts_on=date(2025, 2, 1))
        ledger.issue_statement(account, issued_on=date(2025, 2, 15))
        ledger.issue_statement(account, issued_on=date(2025, 3, 1))
        ledger.miss_installment(account, date(2025, 3, 1))
        ledger.miss_installment(account, date(2025, 3, 3))
        ledger.issue_statement(account, issued_on=date(2025, 3, 5))

        assert [s["dunning_level"] for s in ledger.account(account).statements] == [1, 1, 1, 4]

    def test_a_completed_plan_ends_and_a_new_one_gets_its_own_id(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        first = ledger.agree_payment_plan(account, 5_000)
        ledger.complete_payment_plan(account)
        assert ledger.account(account).payment_plan["status"] == "completed"
        with refused(ledger, RuleViolation, "has no current payment plan"):
            ledger.complete_payment_plan(account)
        second = ledger.agree_payment_plan(account, 5_000)
        ledger.miss_installment(account, date(2025, 4, 9))
        ledger.miss_installment(account, date(2025, 5, 9))
        third = ledger.agree_payment_plan(account, 5_000)
        assert len({first, second, third}) == 3

    def test_a_plan_needs_a_balance_a_sane_schedule_and_no_other_current_plan(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        with refused(ledger, ValidationError, "installment no larger"):
            ledger.agree_payment_plan(account, 15_001)
        with refused(ledger, ValidationError, "installment no larger"):
            ledger.agree_payment_plan(account, 0)
        for days in (0, 367, 99_999_999_999_999_999_999):
            with refused(ledger, ValidationError, "installments must be 1 to 366 days apart"):
                ledger.agree_payment_plan(account, 5_000, frequency_days=days)
        for start in (date(9999, 12, 31), TODAY + timedelta(days=367),
                      TODAY - timedelta(days=367)):
            with refused(ledger, ValidationError, "more than a year from today"):
                ledger.agree_payment_plan(account, 5_000, starts_on=start)
        ledger.agree_payment_plan(account, 5_000)
        with refused(ledger, RuleViolation, "already has a current payment plan"):
            ledger.agree_payment_plan(account, 1_000)
        newcomer = register_patient(ledger, first_name="NEW", coverage=())
        with refused(ledger, ValidationError, "no patient balance for a plan"):
            ledger.agree_payment_plan(newcomer, 1_000)


class TestCollectionReferral:
    def test_referral_writes_the_balance_off_to_bad_debt_and_keeps_a_memo(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        before = ledger.events_count()
        ledger.refer_to_collections(account, AGENCY_NAME, approved_by="supervisor",
                                    referred_on=date(2025, 3, 1))

        recorded = recorded_since(ledger, before)
        assert sorted(names(recorded)) == ["AdjustmentPosted"] * 2 + ["ReferredToCollections"] + [
            "ResponsibilityTransferred"] * 2
        bad_debt = [e for e in recorded if type(e).__name__ == "AdjustmentPosted"]
        assert {(e.kind, e.party, e.approved_by, e.effective_on) for e in bad_debt} == {
            ("bad-debt", AGENCY, "supervisor", date(2025, 3, 1))}
        assert sum(e.amount_cents for e in bad_debt) == 15_000
        assert balances(ledger, owed) == {}
        patient = ledger.account(account)
        assert patient.at_agency_cents == 15_000
        assert (patient.referral["agency"], patient.referral["status"]) == (
            AGENCY_NAME, "placed")
        entries = [journal_entry_for(type(e).__name__, e.__dict__) for e in bad_debt]
        assert sum(line.amount_cents for entry in entries if entry for line in entry.lines
                   if line.account is LedgerAccount.BAD_DEBT) == 15_000

    def test_a_referral_needs_an_agency_a_balance_no_current_plan_and_no_placement(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        with refused(ledger, ValidationError, "name the collection agency"):
            ledger.refer_to_collections(account, " ")
        ledger.agree_payment_plan(account, 5_000)
        with refused(ledger, RuleViolation, "has a current payment plan"):
            ledger.refer_to_collections(account, AGENCY_NAME)
        ledger.miss_installment(account, date(2025, 4, 9))
        ledger.miss_installment(account, date(2025, 5, 9))
        ledger.refer_to_collections(account, AGENCY_NAME)
        open_visit(ledger, account, charges=["36415"])
        with refused(ledger, RuleViolation, f"is already with {AGENCY_NAME}"):
            ledger.refer_to_collections(account, "SECOND AGENCY")
        newcomer = register_patient(ledger, first_name="NEW", coverage=())
        with refused(ledger, RuleViolation, "has no patient balance to refer"):
            ledger.refer_to_collections(newcomer, AGENCY_NAME)

    def test_an_agency_recovery_nets_to_zero_on_the_balance_and_keeps_its_fee_out_of_ar(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        ledger.refer_to_collections(account, AGENCY_NAME)
        before = ledger.events_count()

        ledger.record_agency_recovery(account, 12_000, fee_cents=3_600,
                                      recovered_on=date(2025, 3, 5))

        recorded = recorded_since(ledger, before)
        assert sorted(names(recorded)) == ["AdjustmentPosted"] * 2 + ["AgencyRecovered"] + [
            "PaymentPosted"] * 2
        # Oldest line first: January's $100 in full, then $20 of February's $50.
        payments = [(e.line_id, e.amount_cents, e.party, e.method)
                    for e in recorded if type(e).__name__ == "PaymentPosted"]
        assert payments == [(owed[0].line_ids[0], 10_000, AGENCY, "agency"),
                            (owed[1].line_ids[0], 2_000, AGENCY, "agency")]
        assert balances(ledger, owed) == {}
        paid = sum(ledger.encounter(v.encounter_id).line(v.line_ids[0])["totals"][
            Category.PAYMENT] for v in owed)
        assert paid == 12_000
        cash = sum(line.amount_cents for e in recorded
                   if (entry := journal_entry_for(type(e).__name__, e.__dict__))
                   for line in entry.lines if line.account is LedgerAccount.CASH)
        assert cash == 12_000  # gross: the 36.00 fee is an expense outside A/R
        referral = ledger.account(account).referral
        assert (referral["recovered_cents"], referral["fee_cents"]) == (12_000, 3_600)
        assert ledger.account(account).at_agency_cents == 3_000

    def test_a_recovery_must_be_placed_positive_within_the_placement_and_fee(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        with refused(ledger, RuleViolation, "is not with a collection agency"):
            ledger.record_agency_recovery(account, 1_000)
        ledger.refer_to_collections(account, AGENCY_NAME)
        with refused(ledger, ValidationError, "a recovery must be a positive amount"):
            ledger.record_agency_recovery(account, 0)
        with refused(ledger, ValidationError, "between zero and the amount recovered"):
            ledger.record_agency_recovery(account, 1_000, fee_cents=1_001)
        with refused(ledger, RuleViolation, f"exceeds what is placed with {AGENCY_NAME}"):
            ledger.record_agency_recovery(account, 15_001)

    def test_a_recall_hands_what_is_left_back_to_the_patient(
        self, ledger: BillingLedger, owed: tuple[Visit, Visit],
    ) -> None:
        account = account_of(owed)
        first = ledger.refer_to_collections(account, AGENCY_NAME)
        ledger.record_agency_recovery(account, 12_000, fee_cents=3_600)
        before = ledger.events_count()

        assert ledger.recall_from_agency(account, "patient disputes the bill") == 3_000

        recorded = recorded_since(ledger, before)
        assert sorted(names(recorded)) == [
            "AdjustmentPosted", "RecalledFromAgency", "ResponsibilityTransferred"]
        assert balances(ledger, owed) == {PATIENT: 3_000}
        patient = ledger.account(account)
        assert (patient.at_agency_cents, patient.referral["status"]) == (0, "recalled")
        with refused(ledger, RuleViolation, "is not with a collection agency"):
            ledger.recall_from_agency(account, "again")
        second = ledger.refer_to_collections(account, "SECOND AGENCY")
        assert second != first

    def test_unknown_accounts_are_not_found(self, ledger: BillingLedger) -> None:
        with refused(ledger, NotFoundError, "no account NOPE"):
            ledger.refer_to_collections("NOPE", AGENCY_NAME)
        with refused(ledger, NotFoundError, "no account NOPE"):
            ledger.issue_statement("NOPE")


class TestGuarantorFamily:
    @pytest.fixture
    def family(self, ledger: BillingLedger, practice: Practice) -> tuple[str, Visit, Visit]:
        """A parent guaranteeing two children; the younger child's visit is the oldest."""
        parent = register_patient(ledger, first_name="JANE", coverage=())
        older = register_patient(ledger, first_name="AMY", birth_date=date(2012, 1, 1),
                                 coverage=(), guarantor=parent)
        younger = register_patient(ledger, first_name="BEN", birth_date=date(2016, 1, 1),
                                   coverage=(), guarantor=parent)
        return (parent,
                open_visit(ledger, older, charges=["99213"], service_date=date(2025, 2, 3)),
                open_visit(ledger, younger, charges=["99214"], service_date=date(2025, 1, 6)))

    def test_the_parent_pays_for_both_children_oldest_visit_first(
        self, ledger: BillingLedger, family: tuple[str, Visit, Visit],
    ) -> None:
        parent, amy, ben = family
        assert ledger.encounter(amy.encounter_id).guarantor_account_no == parent
        ledger.post_patient_payment(parent, 20_000)

        assert balances(ledger, (ben,)) == {}
        assert balances(ledger, (amy,)) == {PATIENT: 5_000}

    def test_one_statement_to_the_guarantor_covers_the_whole_family(
        self, ledger: BillingLedger, family: tuple[str, Visit, Visit],
    ) -> None:
        parent, amy, ben = family
        ledger.issue_statement(parent)
        [statement] = recorded_since(ledger, ledger.events_count() - 1)
        assert statement.balance_cents == 25_000
        assert [line["encounter_id"] for line in statement.lines] == [
            ben.encounter_id, amy.encounter_id]
        with refused(ledger, RuleViolation, f"{amy.account_no} is not a guarantor"):
            ledger.issue_statement(amy.account_no)

    def test_a_family_credit_is_refunded_from_the_guarantor_account(
        self, ledger: BillingLedger, family: tuple[str, Visit, Visit],
    ) -> None:
        parent, _, _ = family
        ledger.post_patient_payment(parent, 26_000)
        assert ledger.credit_cents(parent) == 1_000
        request_id = ledger.request_refund(parent, 1_000, reason="overpaid")
        assert ledger.account(parent).refund_requests[request_id]["payee"] == "DOE, JANE"
