"""BillingLedger money by hand: patient and manual payments, adjustments, transfers, write-offs,
reversals and two-person refunds."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import NotFoundError, RuleViolation, ValidationError
from domain.ledger import AGENCY, PATIENT, LedgerAccount, journal_entry_for
from domain.services.payments import WRITE_OFF_KINDS
from tests.builders import (
    PRIMARY,
    SECONDARY,
    TODAY,
    Practice,
    Visit,
    names,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    reversal_of,
    submitted_claim,
    worked_example_correction,
    worked_example_remit,
)
from tests.conftest import LedgerFactory


def line_buckets(ledger: BillingLedger, visit: Visit) -> list[dict[str, int]]:
    encounter = ledger.encounter(visit.encounter_id)
    return [dict(encounter.line(i)["buckets"]) for i in visit.line_ids]


@pytest.fixture
def self_pay(ledger: BillingLedger, practice: Practice) -> tuple[Visit, Visit]:
    """An uninsured patient's two visits: 99213 ($100) in January, 93000 ($50) in February."""
    account = register_patient(ledger, coverage=())
    return (open_visit(ledger, account, charges=["99213"], service_date=date(2025, 1, 10)),
            open_visit(ledger, account, charges=["93000"], service_date=date(2025, 2, 10)))


@pytest.fixture
def insured(ledger: BillingLedger, practice: Practice) -> Visit:
    """DOMAIN §4's visit, still all with the primary (150 + 50)."""
    return open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))


class TestPatientPayment:
    def test_a_payment_goes_to_the_oldest_patient_balance_first(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        january, february = self_pay
        before = ledger.events_count()
        entries = ledger.post_patient_payment(january.account_no, 12_000,
                                              paid_on=date(2025, 3, 1), method="card",
                                              reference="AUTH1")

        recorded = recorded_since(ledger, before)
        assert names(recorded) == ["PaymentPosted", "PaymentPosted"]
        assert [(e.line_id, e.amount_cents) for e in recorded] == [
            (january.line_ids[0], 10_000), (february.line_ids[0], 2_000)]
        assert {(e.party, e.method, e.reference, e.effective_on) for e in recorded} == {
            (PATIENT, "card", "AUTH1", date(2025, 3, 1))}
        assert entries == [e.entry_id for e in recorded]
        assert line_buckets(ledger, january) == [{}]
        assert line_buckets(ledger, february) == [{PATIENT: 3_000}]

    def test_an_overpayment_stays_as_a_credit_on_the_newest_line(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        january, february = self_pay
        ledger.post_patient_payment(january.account_no, 16_000)

        overpayment = recorded_since(ledger, ledger.events_count() - 1)[0]
        assert (overpayment.line_id, overpayment.amount_cents, overpayment.source) == (
            february.line_ids[0], 1_000, "user:overpayment")
        assert overpayment.effective_on == TODAY
        assert line_buckets(ledger, february) == [{PATIENT: -1_000}]
        assert ledger.credit_cents(january.account_no) == 1_000

    def test_a_payment_needs_a_positive_amount_a_known_method_and_something_to_pay(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        account = self_pay[0].account_no
        with refused(ledger, ValidationError, "a payment must be a positive amount"):
            ledger.post_patient_payment(account, 0)
        with refused(ledger, ValidationError, "method must be one of"):
            ledger.post_patient_payment(account, 100, method="bitcoin")
        newcomer = register_patient(ledger, first_name="NEW", coverage=())
        with refused(ledger, RuleViolation, f"account {newcomer} has no charges to pay"):
            ledger.post_patient_payment(newcomer, 100)
        with refused(ledger, NotFoundError, "no account NOPE"):
            ledger.post_patient_payment("NOPE", 100)

    def test_a_dependents_payment_is_taken_on_the_guarantors_account(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        parent = register_patient(ledger, first_name="JANE", coverage=())
        child = register_patient(ledger, first_name="AMY", birth_date=date(2012, 1, 1),
                                 coverage=(), guarantor=parent)
        open_visit(ledger, child, charges=["99213"])
        with refused(ledger, RuleViolation, f"{child} is not a guarantor; use account {parent}"):
            ledger.post_patient_payment(child, 100)


class TestManualPayment:
    def test_a_paper_eob_payment_posts_against_one_line_for_one_payer(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        before = ledger.events_count()
        entry = ledger.post_manual_payment(insured.encounter_id, insured.line_ids[0], PRIMARY,
                                           9_000, reference="CHK 1001")

        [paid] = recorded_since(ledger, before)
        assert (type(paid).__name__, paid.entry_id, paid.party, paid.amount_cents) == (
            "PaymentPosted", entry, PRIMARY, 9_000)
        assert (paid.method, paid.reference, paid.effective_on, paid.actor) == (
            "check", "CHK 1001", TODAY, "biller")
        assert line_buckets(ledger, insured) == [{PRIMARY: 6_000}, {PRIMARY: 5_000}]

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"party": "NOSUCH"}, ValidationError, "NOSUCH is not a party", id="party"),
        pytest.param({"method": "IOU"}, ValidationError, "method must be one of", id="method"),
        pytest.param({"amount_cents": 0}, ValidationError, "must be positive", id="zero"),
        pytest.param({"amount_cents": -100}, ValidationError, "must be positive",
                     id="negative"),
        pytest.param({"line_id": "NOPE"}, ValidationError, "has no charge line NOPE",
                     id="line"),
        pytest.param({"encounter_id": "V404"}, NotFoundError, "no encounter V404",
                     id="encounter"),
    ])
    def test_a_manual_payment_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, insured: Visit, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        args: dict[str, Any] = {"encounter_id": insured.encounter_id,
                                "line_id": insured.line_ids[0], "party": PRIMARY,
                                "amount_cents": 100} | kwargs
        with refused(ledger, error, match):
            ledger.post_manual_payment(**args)

    def test_nothing_posts_to_a_reversed_line(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        ledger.reverse_charge(insured.encounter_id, insured.line_ids[1], "duplicate")
        with refused(ledger, RuleViolation, "was reversed; post to its replacement"):
            ledger.post_manual_payment(insured.encounter_id, insured.line_ids[1], PRIMARY, 100)


class TestPostAdjustment:
    def test_a_paper_eob_adjustment_keeps_its_group_and_carc(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        before = ledger.events_count()
        ledger.post_adjustment(insured.encounter_id, insured.line_ids[0], PRIMARY, 5_000,
                               group="CO", carc="45", rarcs=["N381"])

        [adjusted] = recorded_since(ledger, before)
        assert (adjusted.kind, adjusted.group, adjusted.carc, adjusted.rarcs) == (
            "payer", "CO", "45", ["N381"])
        assert (adjusted.reason, adjusted.amount_cents, adjusted.effective_on) == (
            "CO-45", 5_000, TODAY)
        assert ledger.encounter(insured.encounter_id).balance_cents == 15_000

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"group": "CR"}, ValidationError, "CO, PR, OA or PI", id="group"),
        pytest.param({"carc": " "}, ValidationError, "needs a CARC", id="carc"),
        pytest.param({"party": "NOSUCH"}, ValidationError, "not a party", id="party"),
        pytest.param({"amount_cents": 0}, ValidationError, "must be positive", id="zero"),
    ])
    def test_an_adjustment_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, insured: Visit, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        args: dict[str, Any] = {"party": PRIMARY, "amount_cents": 100, "group": "CO",
                                "carc": "45"} | kwargs
        with refused(ledger, error, match):
            ledger.post_adjustment(insured.encounter_id, insured.line_ids[0], **args)


class TestTransfers:
    def test_a_transfer_moves_responsibility_and_leaves_the_balance(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        before = ledger.events_count()
        ledger.transfer_balance(insured.encounter_id, insured.line_ids[0], PRIMARY, SECONDARY,
                                4_000, reason="COB: secondary is primary for labs")

        [moved] = recorded_since(ledger, before)
        assert (type(moved).__name__, moved.from_party, moved.to_party, moved.amount_cents) == (
            "ResponsibilityTransferred", PRIMARY, SECONDARY, 4_000)
        assert moved.reason == "COB: secondary is primary for labs"
        assert line_buckets(ledger, insured) == [{PRIMARY: 11_000, SECONDARY: 4_000},
                                                 {PRIMARY: 5_000}]
        assert ledger.encounter(insured.encounter_id).balance_cents == 20_000

    def test_without_an_amount_everything_the_party_holds_moves(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        ledger.transfer_balance(insured.encounter_id, insured.line_ids[1], PRIMARY, PATIENT)
        assert line_buckets(ledger, insured)[1] == {PATIENT: 5_000}

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"amount_cents": 15_001}, ValidationError, "holds only 15000 cents",
                     id="more-than-held"),
        pytest.param({"amount_cents": -1}, ValidationError, "holds nothing", id="negative"),
        pytest.param({"from_party": PATIENT}, ValidationError, "PATIENT holds nothing",
                     id="nothing-held"),
        pytest.param({"to_party": PRIMARY}, ValidationError, "two different parties",
                     id="same-party"),
        pytest.param({"to_party": "NOSUCH"}, ValidationError, "NOSUCH is not a party",
                     id="unknown-party"),
    ])
    def test_a_transfer_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, insured: Visit, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        args: dict[str, Any] = {"from_party": PRIMARY, "to_party": SECONDARY} | kwargs
        with refused(ledger, error, match):
            ledger.transfer_balance(insured.encounter_id, insured.line_ids[0], **args)

    def test_transfer_to_patient_moves_every_line_the_payer_holds(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        ledger.post_manual_payment(insured.encounter_id, insured.line_ids[1], PRIMARY, 5_000)
        entries = ledger.transfer_to_patient(insured.encounter_id, PRIMARY, "terminated")

        assert len(entries) == 1
        assert line_buckets(ledger, insured) == [{PATIENT: 15_000}, {}]
        with refused(ledger, ValidationError, f"{PRIMARY} holds nothing on encounter"):
            ledger.transfer_to_patient(insured.encounter_id, PRIMARY)
        with refused(ledger, ValidationError, "NOSUCH is not a party"):
            ledger.transfer_to_patient(insured.encounter_id, "NOSUCH")


KIND_ACCOUNTS = {"bad-debt": LedgerAccount.BAD_DEBT, "discount": LedgerAccount.DISCOUNTS,
                 "charity": LedgerAccount.DISCOUNTS}


class TestWriteOff:
    @pytest.mark.parametrize("kind", sorted(WRITE_OFF_KINDS))
    def test_every_write_off_kind_records_its_reason_approver_and_contra_account(
        self, ledger: BillingLedger, insured: Visit, kind: str,
    ) -> None:
        ledger.transfer_balance(insured.encounter_id, insured.line_ids[1], PRIMARY, PATIENT)
        before = ledger.events_count()
        ledger.write_off(insured.encounter_id, insured.line_ids[1], PATIENT, kind=kind,
                         reason="policy", amount_cents=400, approved_by="supervisor",
                         effective_on=date(2025, 3, 1))

        [written_off] = recorded_since(ledger, before)
        assert (type(written_off).__name__, written_off.kind, written_off.reason) == (
            "AdjustmentPosted", kind, "policy")
        assert (written_off.approved_by, written_off.amount_cents, written_off.party) == (
            "supervisor", 400, PATIENT)
        assert written_off.effective_on == date(2025, 3, 1)
        assert line_buckets(ledger, insured)[1] == {PATIENT: 4_600}
        entry = journal_entry_for("AdjustmentPosted", written_off.__dict__)
        assert entry is not None
        assert {line.account: line.amount_cents for line in entry.lines} == {
            KIND_ACCOUNTS.get(kind, LedgerAccount.OTHER_ADJUSTMENTS): 400,
            LedgerAccount.AR_PATIENT: -400}

    def test_a_write_off_defaults_to_all_the_party_owes_approved_by_the_acting_user(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        ledger.write_off(insured.encounter_id, insured.line_ids[1], PRIMARY,
                         kind="timely-filing", reason="denied CO-29, no proof")
        written_off = recorded_since(ledger, ledger.events_count() - 1)[0]
        assert (written_off.amount_cents, written_off.approved_by) == (5_000, "biller")
        assert line_buckets(ledger, insured)[1] == {}

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"kind": "contractual"}, ValidationError, "kind must be one of",
                     id="contractual-is-the-posters"),
        pytest.param({"kind": "whim"}, ValidationError, "kind must be one of", id="kind"),
        pytest.param({"reason": " "}, ValidationError, "needs a reason", id="reason"),
        pytest.param({"amount_cents": 5_001}, ValidationError, "owes only 5000 cents",
                     id="more-than-owed"),
        pytest.param({"amount_cents": 0}, ValidationError, "owes nothing", id="zero"),
        pytest.param({"party": PATIENT}, ValidationError, "PATIENT owes nothing",
                     id="nothing-owed"),
        pytest.param({"party": AGENCY, "amount_cents": 1}, ValidationError, "AGENCY owes",
                     id="agency-owes-nothing"),
        pytest.param({"party": "NOSUCH"}, ValidationError, "not a party", id="party"),
    ])
    def test_a_write_off_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, insured: Visit, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        args: dict[str, Any] = {"party": PRIMARY, "kind": "administrative",
                                "reason": "policy"} | kwargs
        with refused(ledger, error, match):
            ledger.write_off(insured.encounter_id, insured.line_ids[1], **args)


class TestReverseEntry:
    def test_a_bounced_check_is_reversed_to_the_exact_prior_buckets(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        january, february = self_pay
        prior = line_buckets(ledger, january) + line_buckets(ledger, february)
        entries = ledger.post_patient_payment(january.account_no, 12_000, method="check")
        before = ledger.events_count()

        for entry_id, visit in zip(entries, self_pay, strict=True):
            ledger.reverse_entry(visit.encounter_id, entry_id, "NSF check")

        recorded = recorded_since(ledger, before)
        assert names(recorded) == ["EntryReversed", "EntryReversed"]
        assert [(e.reverses_entry_id, e.reversed_event) for e in recorded] == [
            (entries[0], "PaymentPosted"), (entries[1], "PaymentPosted")]
        assert line_buckets(ledger, january) + line_buckets(ledger, february) == prior

    def test_an_entry_is_reversed_once_with_a_reason_and_a_reversal_never(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        enc = insured.encounter_id
        entry = ledger.post_manual_payment(enc, insured.line_ids[0], PRIMARY, 100)
        with refused(ledger, ValidationError, f"encounter {enc} has no entry {enc}.9"):
            ledger.reverse_entry(enc, f"{enc}.9", "typo")
        with refused(ledger, ValidationError, "a reversal needs a reason"):
            ledger.reverse_entry(enc, entry, "")
        reversal = ledger.reverse_entry(enc, entry, "wrong line")
        with refused(ledger, RuleViolation, f"entry {entry} is already reversed"):
            ledger.reverse_entry(enc, entry, "again")
        with refused(ledger, RuleViolation, "a reversal is not reversed"):
            ledger.reverse_entry(enc, reversal, "undo")


@pytest.fixture
def credit(ledger: BillingLedger, insured: Visit) -> tuple[Visit, list[str]]:
    """DOMAIN §4 to the end: posting, reversal, correction (patient owes 52), patient pays 60."""
    claim_id = submitted_claim(ledger, insured.encounter_id)
    original = worked_example_remit(claim_id)
    ledger.post_remittance(original)
    ledger.post_remittance(reversal_of(original, paid_on=date(2025, 3, 1)))
    ledger.post_remittance(worked_example_correction(claim_id, paid_on=date(2025, 3, 1)))
    ledger.transfer_to_patient(insured.encounter_id, SECONDARY)
    payments = ledger.post_patient_payment(insured.account_no, 6_000,
                                           paid_on=date(2025, 3, 5))
    return insured, payments


class TestRefunds:
    def test_a_credit_is_refunded_only_when_a_second_person_approves(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory,
        credit: tuple[Visit, list[str]],
    ) -> None:
        visit, _ = credit
        account = visit.account_no
        assert ledger.credit_cents(account) == 800
        assert ledger.encounter(visit.encounter_id).balance_cents == -800
        request_id = ledger.request_refund(account, 800, reason="overpaid at the desk")
        requested = recorded_since(ledger, ledger.events_count() - 1)[0]
        assert (type(requested).__name__, requested.request_id, requested.requested_by) == (
            "RefundRequested", request_id, "biller")
        assert requested.payee == "DOE, JOHN"

        with refused(ledger, RuleViolation, "cannot approve their own refund"):
            ledger.approve_refund(account, request_id)
        supervisor = ledger_factory(actor="supervisor")
        before = ledger.events_count()
        supervisor.approve_refund(account, request_id)

        recorded = recorded_since(ledger, before)
        assert sorted(names(recorded)) == ["RefundApproved", "RefundIssued"]
        issued = next(e for e in recorded if type(e).__name__ == "RefundIssued")
        assert (issued.amount_cents, issued.party, issued.requested_by, issued.approved_by) == (
            800, PATIENT, "biller", "supervisor")
        assert {e.actor for e in recorded} == {"supervisor"}
        assert ledger.credit_cents(account) == 0
        assert ledger.encounter(visit.encounter_id).balance_cents == 0
        assert ledger.account(account).refund_requests[request_id]["status"] == "approved"
        with refused(ledger, RuleViolation, f"refund request {request_id} is already approved"):
            supervisor.approve_refund(account, request_id)

    def test_a_declined_request_cannot_be_approved(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory,
        credit: tuple[Visit, list[str]],
    ) -> None:
        account = credit[0].account_no
        request_id = ledger.request_refund(account, 500, reason="overpaid")
        supervisor = ledger_factory(actor="supervisor")
        supervisor.decline_refund(account, request_id, "apply to next visit")

        assert ledger.account(account).refund_requests[request_id]["status"] == "declined"
        with refused(ledger, RuleViolation, "is already declined"):
            supervisor.approve_refund(account, request_id)
        with refused(ledger, RuleViolation, "is already declined"):
            supervisor.decline_refund(account, request_id, "again")

    def test_a_request_needs_a_reason_and_a_positive_amount_within_the_credit(
        self, ledger: BillingLedger, credit: tuple[Visit, list[str]],
    ) -> None:
        account = credit[0].account_no
        with refused(ledger, ValidationError, "has a credit of only 800 cents"):
            ledger.request_refund(account, 801, reason="overpaid")
        with refused(ledger, ValidationError, "needs a reason"):
            ledger.request_refund(account, 800, reason=" ")
        with refused(ledger, ValidationError, "a refund must be a positive amount"):
            ledger.request_refund(account, 0, reason="overpaid")
        with refused(ledger, ValidationError, f"no refund request R9 on {account}"):
            ledger.approve_refund(account, "R9")

    def test_an_approval_after_the_credit_shrank_is_refused(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory,
        credit: tuple[Visit, list[str]],
    ) -> None:
        visit, payments = credit
        request_id = ledger.request_refund(visit.account_no, 800, reason="overpaid")
        ledger.reverse_entry(visit.encounter_id, payments[-1], "check bounced")
        with refused(ledger, RuleViolation, "less than the request; decline it"):
            ledger_factory(actor="supervisor").approve_refund(visit.account_no, request_id)


class TestDatesOfMoneyByHand:
    """A biller posts what has been received: no date after today (an 835 may, see era)."""

    def test_a_payment_dated_after_today_is_refused_and_records_nothing(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        january, _ = self_pay
        with refused(ledger, ValidationError, "payment date 2025-03-11 is in the future"):
            ledger.post_patient_payment(january.account_no, 1_000,
                                        paid_on=date(2025, 3, 11))
        with refused(ledger, ValidationError, "payment date 9999-12-31 is in the future"):
            ledger.post_manual_payment(january.encounter_id, january.line_ids[0], PATIENT,
                                       1_000, paid_on=date(9999, 12, 31))

    def test_adjustments_transfers_write_offs_and_reversals_dated_after_today_are_refused(
        self, ledger: BillingLedger, insured: Visit,
    ) -> None:
        line = insured.line_ids[0]
        later = date(2025, 4, 1)
        with refused(ledger, ValidationError, "adjustment date 2025-04-01 is in the future"):
            ledger.post_adjustment(insured.encounter_id, line, PRIMARY, 1_000,
                                   group="CO", carc="45", effective_on=later)
        with refused(ledger, ValidationError, "transfer date 2025-04-01 is in the future"):
            ledger.transfer_balance(insured.encounter_id, line, PRIMARY, PATIENT,
                                    1_000, effective_on=later)
        with refused(ledger, ValidationError, "write-off date 2025-04-01 is in the future"):
            ledger.write_off(insured.encounter_id, line, PRIMARY, kind="administrative",
                             reason="test", amount_cents=100, effective_on=later)
        entry = ledger.post_manual_payment(insured.encounter_id, line, PRIMARY, 1_000)
        with refused(ledger, ValidationError, "reversal date 2025-04-01 is in the future"):
            ledger.reverse_entry(insured.encounter_id, entry, "bounced", effective_on=later)

    def test_today_and_earlier_dates_are_taken_as_given(
        self, ledger: BillingLedger, self_pay: tuple[Visit, Visit],
    ) -> None:
        january, _ = self_pay
        before = ledger.events_count()
        ledger.post_patient_payment(january.account_no, 1_000, paid_on=TODAY)
        ledger.post_patient_payment(january.account_no, 1_000, paid_on=date(2025, 1, 31))
        assert [e.effective_on for e in recorded_since(ledger, before)
                if type(e).__name__ == "PaymentPosted"] == [TODAY, date(2025, 1, 31)]
