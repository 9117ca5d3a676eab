"""BillingLedger front-desk commands: patients, guarantors, coverage, eligibility, discounts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import AlreadyExistsError, NotFoundError, RuleViolation, ValidationError
from tests.builders import (
    EFFECTIVE,
    PRIMARY,
    PRIMARY_PLAN,
    SECONDARY,
    SECONDARY_PLAN,
    TODAY,
    Practice,
    names,
    recorded_since,
    refused,
    register_patient,
)

ADDRESS = {"line1": "200 OAK AVE", "city": "SPRINGFIELD", "state": "il", "zip": "62704-1234"}


class TestRegisterPatient:
    def test_a_patient_is_registered_with_clean_demographics_and_today_as_registration_date(
        self, ledger: BillingLedger,
    ) -> None:
        account = ledger.register_patient(" doe ", "jane", date(1980, 2, 29), "F",
                                          middle_name="q", address=ADDRESS,
                                          phone=" 555-0100 ", reason_for_visit="chest pain")

        [registered] = recorded_since(ledger, 0)
        assert names([registered]) == ["Registered"]
        assert registered.actor == "biller"
        assert registered.registered_on == TODAY
        patient = ledger.account(account)
        assert patient.display_name == "DOE, JANE Q"
        assert patient.address == {"line1": "200 OAK AVE", "line2": "", "city": "SPRINGFIELD",
                                   "state": "IL", "zip": "627041234"}
        assert (patient.phone, patient.reason_for_visit) == ("555-0100", "chest pain")
        assert patient.guarantor_account_no == account  # an adult is their own guarantor
        assert account[0] == "A" and account[1:].isdigit() and len(account) == 9

    def test_an_account_number_can_be_given_and_a_registration_date_backdated(
        self, ledger: BillingLedger,
    ) -> None:
        ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F", account_no="MRN42",
                                registered_on=date(2024, 5, 1))
        assert ledger.account("MRN42").registered_on == date(2024, 5, 1)

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"last_name": " "}, ValidationError, "last and a first name",
                     id="no-last-name"),
        pytest.param({"first_name": ""}, ValidationError, "last and a first name",
                     id="no-first-name"),
        pytest.param({"sex": "X"}, ValidationError, "F, M or U", id="sex"),
        pytest.param({"birth_date": date(2025, 3, 11)}, ValidationError, "in the future",
                     id="born-tomorrow"),
        pytest.param({"birth_date": date(1899, 12, 31)}, ValidationError, "not plausible",
                     id="born-1899"),
        pytest.param({"account_no": "A-1"}, ValidationError, "letters or digits",
                     id="account-no-punctuation"),
        pytest.param({"account_no": "A" * 21}, ValidationError, "1-20", id="account-no-long"),
        pytest.param({"address": {"street": "x"}}, ValidationError, "unknown address fields",
                     id="address-field"),
        pytest.param({"address": {"state": "ILL"}}, ValidationError, "2-letter", id="state"),
        pytest.param({"address": {"zip": "1234"}}, ValidationError, "5 or 9 digits",
                     id="zip"),
    ])
    def test_a_registration_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, kwargs: dict[str, Any], error: type[Exception],
        match: str,
    ) -> None:
        args: dict[str, Any] = {"last_name": "DOE", "first_name": "JANE",
                                "birth_date": date(1980, 1, 1), "sex": "F"} | kwargs
        with refused(ledger, error, match):
            ledger.register_patient(**args)

    def test_an_account_number_is_used_once(self, ledger: BillingLedger) -> None:
        ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F", account_no="MRN42")
        with refused(ledger, AlreadyExistsError, "account MRN42 already exists"):
            ledger.register_patient("ROE", "RICK", date(1970, 1, 1), "M", account_no="MRN42")

    def test_an_unknown_account_is_not_found(self, ledger: BillingLedger) -> None:
        with pytest.raises(NotFoundError, match="no account NOPE"):
            ledger.account("NOPE")


class TestCorrectDemographics:
    def test_a_correction_records_the_changes_and_the_reason(
        self, ledger: BillingLedger,
    ) -> None:
        account = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
        before = ledger.events_count()
        ledger.correct_demographics(account, "typo at the desk", last_name=" smith ",
                                    birth_date=date(1981, 1, 1), address=ADDRESS)

        [corrected] = recorded_since(ledger, before)
        assert names([corrected]) == ["DemographicsCorrected"]
        assert corrected.reason == "typo at the desk"
        patient = ledger.account(account)
        assert (patient.last_name, patient.birth_date) == ("SMITH", date(1981, 1, 1))
        assert patient.address["zip"] == "627041234"

    @pytest.mark.parametrize(("reason", "changes", "error", "match"), [
        pytest.param(" ", {"phone": "1"}, ValidationError, "needs a reason", id="no-reason"),
        pytest.param("x", {"dependents": []}, ValidationError, "cannot correct dependents",
                     id="unknown-field"),
        pytest.param("x", {}, ValidationError, "nothing to correct", id="nothing"),
        pytest.param("x", {"sex": "Q"}, ValidationError, "F, M or U", id="sex"),
        pytest.param("x", {"address": {"zip": "ABCDE"}}, ValidationError, "ZIP", id="zip"),
        pytest.param("x", {"last_name": "  "}, ValidationError, "name", id="blank-name"),
        pytest.param("x", {"birth_date": date(2025, 3, 11)}, ValidationError, "future",
                     id="born-tomorrow"),
        pytest.param("x", {"birth_date": date(1850, 1, 1)}, ValidationError, "not plausible",
                     id="born-1850"),
    ])
    def test_a_correction_that_breaks_a_registration_rule_is_refused(
        self, ledger: BillingLedger, reason: str, changes: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        account = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
        with refused(ledger, error, match):
            ledger.correct_demographics(account, reason, **changes)

    def test_correcting_an_unknown_account_is_refused(self, ledger: BillingLedger) -> None:
        with refused(ledger, NotFoundError, "no account NOPE"):
            ledger.correct_demographics("NOPE", "typo", phone="1")


@pytest.fixture
def family(ledger: BillingLedger) -> tuple[str, str, str]:
    """A parent and two children, none linked yet."""
    parent = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
    older = ledger.register_patient("DOE", "AMY", date(2010, 1, 1), "F")
    younger = ledger.register_patient("DOE", "BEN", date(2014, 1, 1), "M")
    return parent, older, younger


class TestSetGuarantor:
    def test_a_parent_becomes_the_guarantor_of_a_child(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, child, _ = family
        before = ledger.events_count()
        ledger.set_guarantor(child, parent, "19")

        assert sorted(names(recorded_since(ledger, before))) == [
            "DependentLinked", "GuarantorSet"]
        assert ledger.account(child).guarantor_account_no == parent
        assert ledger.account(child).guarantor_relationship == "19"
        assert ledger.account(parent).dependents == [child]

    def test_moving_a_child_to_another_guarantor_unlinks_the_first(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, child, _ = family
        other = ledger.register_patient("ROE", "RICK", date(1975, 1, 1), "M")
        ledger.set_guarantor(child, parent, "19")
        ledger.set_guarantor(child, other, "19")

        assert ledger.account(parent).dependents == []
        assert ledger.account(other).dependents == [child]

    def test_a_grown_up_child_becomes_their_own_guarantor_again(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, child, _ = family
        ledger.set_guarantor(child, parent, "19")
        ledger.set_guarantor(child, child, "18")

        assert ledger.account(child).guarantor_account_no == child
        assert ledger.account(parent).dependents == []

    def test_a_dependent_cannot_guarantee_others(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, older, younger = family
        ledger.set_guarantor(older, parent, "19")
        with refused(ledger, RuleViolation, "has a guarantor of their own"):
            ledger.set_guarantor(younger, older, "19")

    def test_a_guarantor_of_others_cannot_become_a_dependent(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, older, younger = family
        ledger.set_guarantor(older, parent, "19")
        with refused(ledger, RuleViolation, "guarantees other accounts"):
            ledger.set_guarantor(parent, younger, "01")

    def test_an_unknown_relationship_or_guarantor_is_refused(
        self, ledger: BillingLedger, family: tuple[str, str, str],
    ) -> None:
        parent, child, _ = family
        with refused(ledger, ValidationError, "not an X12 relationship code"):
            ledger.set_guarantor(child, parent, "99")
        with refused(ledger, NotFoundError, "no account NOPE"):
            ledger.set_guarantor(child, "NOPE", "19")


class TestAddCoverage:
    def test_policies_go_in_coverage_order_and_a_new_primary_can_be_placed_first(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=())
        before = ledger.events_count()
        first = ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, " W1 ",
                                    group_number="G1", effective_on=EFFECTIVE)
        new_primary = ledger.add_coverage(account, SECONDARY, SECONDARY_PLAN, "M2",
                                          effective_on=EFFECTIVE, order="P")

        added = recorded_since(ledger, before)
        assert names(added) == ["PolicyAdded", "PolicyAdded"]
        assert added[1].coverage_order == [new_primary, first]
        patient = ledger.account(account)
        assert patient.coverage_order == [new_primary, first]
        policy = patient.policy(first)
        assert (policy["member_id"], policy["group_number"], policy["relationship"]) == (
            "W1", "G1", "18")
        assert policy["subscriber"]["last_name"] == "DOE"   # self: the patient subscribes
        assert policy["filing_indicator"] == "CI"

    def test_a_dependent_policy_names_its_subscriber(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=())
        subscriber = {"last_name": "DOE", "first_name": "JANE", "birth_date": "1980-01-01"}
        policy_id = ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "W9",
                                        relationship="19", subscriber=subscriber,
                                        effective_on=EFFECTIVE)
        assert ledger.account(account).policy(policy_id)["subscriber"] == subscriber

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"payer_id": "NOSUCH"}, NotFoundError, "no payer NOSUCH", id="payer"),
        pytest.param({"plan_id": "NOPLAN"}, ValidationError, "has no plan NOPLAN", id="plan"),
        pytest.param({"relationship": "77"}, ValidationError, "relationship", id="relation"),
        pytest.param({"relationship": "19"}, ValidationError, "subscriber's name",
                     id="dependent-without-subscriber"),
        pytest.param({"order": "Z"}, ValidationError, "order must be one of", id="order"),
        pytest.param({"member_id": "  "}, ValidationError, "member id is required",
                     id="member-id"),
        pytest.param({"terminates_on": date(2023, 12, 31)}, ValidationError,
                     "terminates before it starts", id="terminates-early"),
    ])
    def test_a_policy_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, practice: Practice, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        account = register_patient(ledger, coverage=())
        args: dict[str, Any] = {"payer_id": PRIMARY, "plan_id": PRIMARY_PLAN,
                                "member_id": "W1", "effective_on": EFFECTIVE} | kwargs
        with refused(ledger, error, match):
            ledger.add_coverage(account, **args)

    def test_the_same_membership_is_added_once_while_in_force(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=())
        policy_id = ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "W1",
                                        effective_on=EFFECTIVE)
        with refused(ledger, RuleViolation, "member W1 is already on account"):
            ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "W1", effective_on=EFFECTIVE)
        ledger.terminate_coverage(account, policy_id, date(2024, 12, 31))
        ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "W1", effective_on=date(2025, 1, 1))

    def test_no_more_than_eleven_policies_are_in_coverage_order(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=())
        for n in range(11):
            ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, f"W{n}", effective_on=EFFECTIVE)
        with refused(ledger, RuleViolation, "no more than 11 policies"):
            ledger.add_coverage(account, PRIMARY, PRIMARY_PLAN, "W11", effective_on=EFFECTIVE)


class TestReorderAndTerminateCoverage:
    def test_reordering_makes_the_secondary_primary(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        first, second = ledger.account(account).coverage_order
        before = ledger.events_count()
        ledger.reorder_coverage(account, [second, first], "birthday rule")

        [reordered] = recorded_since(ledger, before)
        assert (type(reordered).__name__, reordered.reason) == (
            "CoverageReordered", "birthday rule")
        assert [p["payer_id"] for p in ledger.account(account).active_policies(TODAY)] == [
            SECONDARY, PRIMARY]

    def test_a_reorder_must_name_every_policy_and_change_something(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        first, second = ledger.account(account).coverage_order
        with refused(ledger, ValidationError, "exactly the policies in coverage"):
            ledger.reorder_coverage(account, [second], "oops")
        with refused(ledger, ValidationError, "already in that order"):
            ledger.reorder_coverage(account, [first, second], "no-op")

    def test_a_terminated_policy_no_longer_covers_later_dates_of_service(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        first, _ = ledger.account(account).coverage_order
        before = ledger.events_count()
        ledger.terminate_coverage(account, first, date(2024, 12, 31), "employer changed plans")

        [terminated] = recorded_since(ledger, before)
        assert (type(terminated).__name__, terminated.terminated_on) == (
            "PolicyTerminated", date(2024, 12, 31))
        patient = ledger.account(account)
        assert [p["payer_id"] for p in patient.active_policies(date(2024, 12, 31))] == [
            PRIMARY, SECONDARY]
        assert [p["payer_id"] for p in patient.active_policies(date(2025, 1, 1))] == [SECONDARY]

    def test_a_termination_needs_a_live_policy_dated_after_it_started(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        [policy_id] = ledger.account(account).coverage_order
        with refused(ledger, ValidationError, f"has no policy {account}-9"):
            ledger.terminate_coverage(account, f"{account}-9", date(2025, 1, 1))
        with refused(ledger, ValidationError, "before the policy's effective date"):
            ledger.terminate_coverage(account, policy_id, date(2023, 12, 31))
        ledger.terminate_coverage(account, policy_id, date(2025, 1, 1))
        with refused(ledger, RuleViolation, "already terminated"):
            ledger.terminate_coverage(account, policy_id, date(2025, 2, 1))


class TestRecordEligibility:
    def test_an_eligibility_check_is_kept_per_policy_dated_today_by_default(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        [policy_id] = ledger.account(account).coverage_order
        before = ledger.events_count()
        ledger.record_eligibility(account, policy_id, active=True, service_on=TODAY,
                                  copay_cents=2_500, deductible_remaining_cents=50_000,
                                  coinsurance_percent=20, trace_number="T1", source="271")

        [recorded] = recorded_since(ledger, before)
        assert type(recorded).__name__ == "EligibilityRecorded"
        check = ledger.account(account).eligibility[policy_id]
        assert check["checked_on"] == TODAY
        assert (check["active"], check["copay_cents"], check["deductible_remaining_cents"],
                check["coinsurance_percent"]) == (True, 2_500, 50_000, 20)

    @pytest.mark.parametrize(("kwargs", "error", "match"), [
        pytest.param({"copay_cents": -1}, ValidationError, "copay cannot be negative",
                     id="copay"),
        pytest.param({"deductible_remaining_cents": -1}, ValidationError, "deductible",
                     id="deductible"),
        pytest.param({"out_of_pocket_remaining_cents": -1}, ValidationError, "out-of-pocket",
                     id="out-of-pocket"),
        pytest.param({"coinsurance_percent": 101}, ValidationError, "0-100%",
                     id="coinsurance"),
        pytest.param({"policy_id": "NOPE-1"}, ValidationError, "has no policy NOPE-1",
                     id="policy"),
    ])
    def test_an_impossible_eligibility_answer_is_refused(
        self, ledger: BillingLedger, practice: Practice, kwargs: dict[str, Any],
        error: type[Exception], match: str,
    ) -> None:
        account = register_patient(ledger)
        [policy_id] = ledger.account(account).coverage_order
        args: dict[str, Any] = {"policy_id": policy_id, "active": True,
                                "service_on": TODAY} | kwargs
        with refused(ledger, error, match):
            ledger.record_eligibility(account, **args)


class TestGrantDiscount:
    def test_a_discount_is_granted_with_the_acting_user_as_approver_by_default(
        self, ledger: BillingLedger,
    ) -> None:
        account = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
        ledger.grant_discount(account, "sliding-scale", 40, effective_on=date(2025, 1, 1),
                              reason="income below 200% FPL")

        patient = ledger.account(account)
        assert patient.discount_on(date(2024, 12, 31)) is None
        assert patient.discount_on(date(2025, 6, 1)) == {
            "kind": "sliding-scale", "percent": 40, "effective_on": date(2025, 1, 1),
            "ends_on": None, "approved_by": "biller", "reason": "income below 200% FPL"}

    @pytest.mark.parametrize(("kind", "percent", "match"), [
        pytest.param("birthday", 10, "discount kind 'birthday'", id="kind"),
        pytest.param("self-pay", 0, "between 1 and 100", id="zero"),
        pytest.param("self-pay", 101, "between 1 and 100", id="over-100"),
    ])
    def test_an_unknown_kind_or_impossible_percent_is_refused(
        self, ledger: BillingLedger, kind: str, percent: int, match: str,
    ) -> None:
        account = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
        with refused(ledger, ValidationError, match):
            ledger.grant_discount(account, kind, percent, effective_on=date(2025, 1, 1))
