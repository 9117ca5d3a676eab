"""BillingLedger practice commands: providers, payers, plans, contracts, fees, chargemaster."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import AlreadyExistsError, NotFoundError, RuleViolation, ValidationError
from tests.builders import (
    BILLING_NPI,
    CONTRACT,
    EFFECTIVE,
    PRIMARY,
    PRIMARY_PLAN,
    RENDERING_NPI,
    TIN,
    Practice,
    names,
    recorded_since,
    refused,
    valid_npi,
)

Command = Callable[[BillingLedger], Any]


class TestEnrollProvider:
    def test_a_billing_provider_is_enrolled_with_npi_normalised_tin_and_taxonomy(
        self, ledger: BillingLedger,
    ) -> None:
        assert ledger.enroll_provider(BILLING_NPI, " ACME MEDICAL GROUP ", "12-3456789",
                                      "207Q00000X", is_billing=True, is_person=False,
                                      address={"line1": "100 MAIN ST"}) == BILLING_NPI

        [enrolled] = recorded_since(ledger, 0)
        assert names([enrolled]) == ["Enrolled"]
        assert enrolled.actor == "biller"
        provider = ledger.provider(BILLING_NPI)
        assert (provider.name, provider.tin, provider.taxonomy) == (
            "ACME MEDICAL GROUP", "123456789", "207Q00000X")
        assert provider.is_billing and not provider.is_person
        assert provider.address == {"line1": "100 MAIN ST"}

    @pytest.mark.parametrize(("npi", "tin", "name", "error", "match"), [
        pytest.param("1234567890", TIN, "X", ValidationError, "check digit", id="bad-npi"),
        pytest.param("123456789", TIN, "X", ValidationError, "check digit", id="short-npi"),
        pytest.param(BILLING_NPI, "999999999", "X", ValidationError, "TIN", id="placeholder-tin"),
        pytest.param(BILLING_NPI, "12345678", "X", ValidationError, "TIN", id="short-tin"),
        pytest.param(BILLING_NPI, TIN, "  ", ValidationError, "needs a name", id="no-name"),
    ])
    def test_a_provider_with_a_bad_identifier_or_no_name_is_refused(
        self, ledger: BillingLedger, npi: str, tin: str, name: str, error: type[Exception],
        match: str,
    ) -> None:
        with refused(ledger, error, match):
            ledger.enroll_provider(npi, name, tin)

    def test_an_npi_is_enrolled_only_once(self, ledger: BillingLedger) -> None:
        ledger.enroll_provider(RENDERING_NPI, "WELBY MARCUS", TIN)
        with refused(ledger, AlreadyExistsError, f"provider {RENDERING_NPI} is already"):
            ledger.enroll_provider(RENDERING_NPI, "SOMEONE ELSE", TIN)

    def test_an_unknown_provider_is_not_found(self, ledger: BillingLedger) -> None:
        with pytest.raises(NotFoundError, match=f"no provider {valid_npi('111111111')}"):
            ledger.provider(valid_npi("111111111"))


class TestRegisterPayer:
    def test_a_payer_is_registered_with_its_filing_indicator_and_response_days(
        self, ledger: BillingLedger,
    ) -> None:
        ledger.register_payer("MCRB1", "MEDICARE PART B", filing_indicator="MB",
                              expected_response_days=14)

        assert names(recorded_since(ledger, 0)) == ["Registered"]
        payer = ledger.payer("MCRB1")
        assert (payer.name, payer.filing_indicator, payer.expected_response_days) == (
            "MEDICARE PART B", "MB", 14)
        assert payer.plans == {}

    @pytest.mark.parametrize(("payer_id", "name", "days", "error", "match"), [
        pytest.param("acme", "ACME", 30, ValidationError, "2-20 characters", id="lowercase-id"),
        pytest.param("A", "ACME", 30, ValidationError, "2-20 characters", id="too-short"),
        pytest.param("PATIENT", "ME", 30, ValidationError, "reserved", id="reserved-patient"),
        pytest.param("AGENCY", "ME", 30, ValidationError, "reserved", id="reserved-agency"),
        pytest.param("ACME", " ", 30, ValidationError, "needs a name", id="no-name"),
        pytest.param("ACME", "ACME", 0, ValidationError, "must be 1 to 3650", id="zero-days"),
        pytest.param("ACME", "ACME", 3_651, ValidationError, "must be 1 to 3650",
                     id="years-of-days"),
    ])
    def test_a_payer_with_a_bad_id_reserved_id_no_name_or_days_is_refused(
        self, ledger: BillingLedger, payer_id: str, name: str, days: int,
        error: type[Exception], match: str,
    ) -> None:
        with refused(ledger, error, match):
            ledger.register_payer(payer_id, name, expected_response_days=days)

    def test_a_payer_id_is_registered_only_once(self, ledger: BillingLedger) -> None:
        ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
        with refused(ledger, AlreadyExistsError, f"payer {PRIMARY} is already registered"):
            ledger.register_payer(PRIMARY, "ACME AGAIN")


class TestAddPlan:
    def test_a_payer_gets_many_plans(self, ledger: BillingLedger) -> None:
        ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
        for n in range(15):
            ledger.add_plan(PRIMARY, f"PLAN{n}", f"Plan {n}", product="HMO")

        assert len(ledger.payer(PRIMARY).plans) == 15
        assert ledger.payer(PRIMARY).plans["PLAN3"] == {
            "plan_id": "PLAN3", "name": "Plan 3", "product": "HMO"}

    def test_a_plan_needs_an_id_and_a_known_payer_and_is_added_once(
        self, ledger: BillingLedger,
    ) -> None:
        ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
        ledger.add_plan(PRIMARY, PRIMARY_PLAN, "Acme PPO")
        with refused(ledger, ValidationError, "needs an id"):
            ledger.add_plan(PRIMARY, " ", "Nameless")
        with refused(ledger, NotFoundError, "no payer NOSUCH"):
            ledger.add_plan("NOSUCH", "P1", "Plan")
        with refused(ledger, RuleViolation, f"plan {PRIMARY_PLAN} already exists"):
            ledger.add_plan(PRIMARY, PRIMARY_PLAN, "Acme PPO again")


@pytest.fixture
def payer_and_provider(ledger: BillingLedger) -> None:
    ledger.enroll_provider(BILLING_NPI, "ACME MEDICAL GROUP", TIN, is_billing=True)
    ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
    ledger.add_plan(PRIMARY, PRIMARY_PLAN, "Acme PPO")
    ledger.add_plan(PRIMARY, "ACMEHMO", "Acme HMO")


@pytest.mark.usefixtures("payer_and_provider")
class TestSignContract:
    def test_a_contract_records_its_terms_fees_and_the_payers_plans(
        self, ledger: BillingLedger,
    ) -> None:
        before = ledger.events_count()
        ledger.sign_contract(CONTRACT, PRIMARY, [PRIMARY_PLAN, "ACMEHMO"], BILLING_NPI,
                             EFFECTIVE, date(2025, 12, 31), timely_filing_days=90,
                             fees=[("99214", "", 10_000), ("99214", "25", 10_500)])

        assert names(recorded_since(ledger, before)) == [
            "Signed", "FeeSet", "FeeSet", "ContractRecorded"]
        contract = ledger.contract_for(PRIMARY, "ACMEHMO", date(2025, 6, 1))
        assert contract is not None and contract.contract_id == CONTRACT
        assert contract.timely_filing_days == 90
        assert contract.allowed_per_unit("99214", ["25"], date(2025, 6, 1)) == 10_500
        assert contract.allowed_per_unit("99214", ["59"], date(2025, 6, 1)) == 10_000
        assert ledger.contract_for(PRIMARY, PRIMARY_PLAN, date(2026, 1, 1)) is None
        assert ledger.contract_for(PRIMARY, PRIMARY_PLAN, date(2023, 12, 31)) is None

    @pytest.mark.parametrize(("change", "error", "match"), [
        pytest.param({"payer_id": "NOSUCH"}, NotFoundError, "no payer NOSUCH", id="payer"),
        pytest.param({"billing_npi": RENDERING_NPI}, NotFoundError, "no provider",
                     id="provider"),
        pytest.param({"plan_ids": ["NOPLAN"]}, ValidationError, "has no plan NOPLAN",
                     id="unknown-plan"),
        pytest.param({"plan_ids": []}, ValidationError, "at least one plan", id="no-plans"),
        pytest.param({"timely_filing_days": 0}, ValidationError, "timely filing",
                     id="filing-days"),
        pytest.param({"timely_filing_days": 10**9}, ValidationError,
                     "timely filing days must be 1 to 3650", id="filing-days-huge"),
        pytest.param({"corrected_claim_days": -1}, ValidationError,
                     "corrected claim days must be 1 to 3650", id="corrected-days"),
        pytest.param({"appeal_days": 3_651}, ValidationError, "appeal days must be 1 to 3650",
                     id="appeal-days"),
        pytest.param({"ends_on": date(2023, 1, 1)}, ValidationError, "ends before it starts",
                     id="ends-early"),
        pytest.param({"fees": [("9921", "", 100)]}, ValidationError, "not CPT/HCPCS",
                     id="fee-code"),
        pytest.param({"fees": [("99214", "", -1)]}, ValidationError, "cannot be negative",
                     id="negative-fee"),
    ])
    def test_a_contract_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, change: dict[str, Any], error: type[Exception],
        match: str,
    ) -> None:
        terms: dict[str, Any] = {"contract_id": CONTRACT, "payer_id": PRIMARY,
                                 "plan_ids": [PRIMARY_PLAN], "billing_npi": BILLING_NPI,
                                 "effective_on": EFFECTIVE} | change
        with refused(ledger, error, match):
            ledger.sign_contract(**terms)

    def test_a_contract_id_is_used_once(self, ledger: BillingLedger) -> None:
        ledger.sign_contract(CONTRACT, PRIMARY, [PRIMARY_PLAN], BILLING_NPI, EFFECTIVE)
        with refused(ledger, AlreadyExistsError, f"contract {CONTRACT} already exists"):
            ledger.sign_contract(CONTRACT, PRIMARY, ["ACMEHMO"], BILLING_NPI, EFFECTIVE)

    def test_the_latest_contract_signed_wins_an_overlap(self, ledger: BillingLedger) -> None:
        ledger.sign_contract("K1", PRIMARY, [PRIMARY_PLAN], BILLING_NPI, EFFECTIVE)
        ledger.sign_contract("K2", PRIMARY, [PRIMARY_PLAN], BILLING_NPI, date(2025, 1, 1))

        assert ledger.payer(PRIMARY).contract_id_for(PRIMARY_PLAN, date(2024, 6, 1)) == "K1"
        assert ledger.payer(PRIMARY).contract_id_for(PRIMARY_PLAN, date(2025, 6, 1)) == "K2"


class TestSetFee:
    def test_a_new_fee_row_supersedes_from_its_effective_date(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        before = ledger.events_count()
        ledger.set_fee(CONTRACT, "99214", "", 11_000, date(2025, 1, 1))

        [fee_set] = recorded_since(ledger, before)
        assert (type(fee_set).__name__, fee_set.allowed_cents, fee_set.effective_on) == (
            "FeeSet", 11_000, date(2025, 1, 1))
        contract = ledger.contract(CONTRACT)
        assert contract.allowed_per_unit("99214", [], date(2024, 12, 31)) == 10_000
        assert contract.allowed_per_unit("99214", [], date(2025, 1, 1)) == 11_000
        assert contract.allowed_per_unit("J1100", [], date(2025, 1, 1)) is None

    @pytest.mark.parametrize(("contract_id", "code", "cents", "ends_on", "error", "match"), [
        pytest.param(CONTRACT, "ABCDE", 100, None, ValidationError, "not a CPT", id="code"),
        pytest.param("K9", "99214", 100, None, NotFoundError, "no contract K9", id="contract"),
        pytest.param(CONTRACT, "99214", -5, None, ValidationError, "negative", id="negative"),
        pytest.param(CONTRACT, "99214", 100, date(2024, 12, 1), ValidationError,
                     "ends before it starts", id="ends-early"),
    ])
    def test_a_fee_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, practice: Practice, contract_id: str, code: str,
        cents: int, ends_on: date | None, error: type[Exception], match: str,
    ) -> None:
        with refused(ledger, error, match):
            ledger.set_fee(contract_id, code, "", cents, date(2025, 1, 1), ends_on)


class TestChargemaster:
    def test_the_first_price_opens_the_chargemaster_and_prices_are_effective_dated(
        self, ledger: BillingLedger,
    ) -> None:
        ledger.set_price("99213", 9_000, date(2024, 1, 1), "Visit")
        ledger.set_price("99213", 10_000, date(2025, 1, 1), "Visit")

        assert names(recorded_since(ledger, 0)) == ["Opened", "PriceSet", "PriceSet"]
        chargemaster = ledger.chargemaster()
        assert chargemaster.price_on("99213", date(2023, 12, 31)) is None
        assert chargemaster.price_on("99213", date(2024, 12, 31)) == (9_000, "Visit")
        assert chargemaster.price_on("99213", date(2025, 1, 1)) == (10_000, "Visit")

    @pytest.mark.parametrize(("code", "cents", "error", "match"), [
        pytest.param("99.13", 100, ValidationError, "not a CPT/HCPCS", id="code"),
        pytest.param("99213", 0, ValidationError, "must be positive", id="zero-price"),
        pytest.param("99213", -100, ValidationError, "must be positive", id="negative-price"),
    ])
    def test_a_price_that_breaks_a_rule_is_refused(
        self, ledger: BillingLedger, code: str, cents: int, error: type[Exception], match: str,
    ) -> None:
        with refused(ledger, error, match):
            ledger.set_price(code, cents, EFFECTIVE)

    def test_a_price_list_with_one_bad_row_loads_nothing(self, ledger: BillingLedger) -> None:
        with refused(ledger, ValidationError, "'9300' is not a CPT/HCPCS"):
            ledger.set_prices([("99213", 100, "ok"), ("9300", 100, "bad")], EFFECTIVE)
        with refused(ledger, ValidationError, "93000 must be positive"):
            ledger.set_prices([("99213", 100, "ok"), ("93000", 0, "free")], EFFECTIVE)
        with pytest.raises(NotFoundError, match="no chargemaster"):
            ledger.chargemaster()
