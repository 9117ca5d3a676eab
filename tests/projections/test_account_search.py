"""Finding an account (`/` in the workstation): by name, account number, DOB or member id."""

from __future__ import annotations

from datetime import date

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries, account_search
from tests.builders import SECONDARY, Practice, register_patient


@pytest.fixture
def people(ledger: BillingLedger, practice: Practice) -> dict[str, str]:
    doe = register_patient(ledger, birth_date=date(1980, 3, 7))
    roe = register_patient(ledger, last_name="ROE", first_name="JANE",
                           birth_date=date(1980, 11, 30), sex="F", coverage=(SECONDARY,))
    poe = register_patient(ledger, last_name="POE", first_name="EDGAR",
                           birth_date=date(1975, 3, 7), coverage=())
    return {"doe": doe, "roe": roe, "poe": poe}


def found(queries: BillingQueries, text: str) -> list[str]:
    return [a["account_no"] for a in queries.accounts(search=text)]


class TestFindByBirthDate:
    def test_an_iso_date_finds_the_patients_born_that_day(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "1980-03-07") == [people["doe"]]
        assert found(queries, " 1975-03-07 ") == [people["poe"]]

    def test_a_us_date_finds_the_same_patients(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "03/07/1980") == [people["doe"]]
        assert found(queries, "3/7/1980") == [people["doe"]]
        assert found(queries, "11/30/1980") == [people["roe"]]

    def test_an_iso_date_being_typed_narrows_as_it_grows(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "1980-") == [people["doe"], people["roe"]]
        assert found(queries, "1980-1") == [people["roe"]]
        assert found(queries, "1980-03-0") == [people["doe"]]

    def test_a_date_that_is_no_date_finds_nobody(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "02/30/1980") == []
        assert found(queries, "1980-13-01") == []


class TestFindByMemberId:
    def test_a_member_id_finds_its_policys_account_whatever_the_case(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, f"W{people['roe']}1") == [people["roe"]]
        assert found(queries, f"w{people['doe']}1".lower()) == [people["doe"]]

    def test_the_start_of_a_member_id_is_enough_as_it_is_typed(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "W") == [people["doe"], people["roe"]]

    def test_payer_and_plan_ids_in_the_policy_are_not_member_ids(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, SECONDARY) == []
        assert found(queries, "GRP12345") == []

    def test_names_and_account_numbers_still_match(
            self, queries: BillingQueries, people: dict[str, str]) -> None:
        assert found(queries, "oe") == [people["doe"], people["poe"], people["roe"]]
        assert found(queries, people["poe"]) == [people["poe"]]


def test_the_condition_is_one_parenthesised_or_with_its_parameters() -> None:
    where, params = account_search(" 3/7/1980 ")
    assert where.count("?") == len(params) == 4
    assert where.startswith("(") and where.endswith(")")
    assert params[-1] == "1980-03-07"
