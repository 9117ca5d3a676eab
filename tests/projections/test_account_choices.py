"""What an account's action forms offer (`account_choices`): every visit, line and claim of
the account, whichever page the screen shows, with the same balances as the whole answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import NotFoundError
from projections.queries import BillingQueries
from tests.builders import (
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)


@pytest.fixture
def doe(ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> dict[str, Any]:
    """Visit 1 (Jan 10, two lines) paid by the primary as in the worked example; visits on
    Feb 1-4 ($50 each, Feb 3's line entered in error and reversed); the patient pays $60."""
    account = register_patient(ledger)
    first = open_visit(ledger, account)
    claim = submitted_claim(ledger, first.encounter_id)
    ledger.post_remittance(worked_example_remit(claim))
    later = [open_visit(ledger, account, charges=("93000",), service_date=date(2025, 2, day))
             for day in range(1, 5)]
    ledger.reverse_charge(later[2].encounter_id, later[2].line_ids[0], "entered in error")
    ledger.post_patient_payment(account, 6_000, paid_on=date(2025, 3, 5))
    return {"account": account, "visits": [first, *later], "claim": claim}


def whole_lines(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines of the whole account answer, visit by visit, as the choices name them."""
    return [{"line_id": x["line_id"], "encounter_id": e["encounter_id"], "code": x["code"],
             "reversed": x["reversed"], "balance_cents": x["balance_cents"],
             "by_party": x["by_party"]}
            for e in answer["encounters"] for x in e["lines"]]


class TestAccountChoices:
    def test_every_visit_line_and_claim_with_the_whole_answers_balances(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        answer = queries.account(doe["account"])
        choices = queries.account_choices(doe["account"])

        assert [v["encounter_id"] for v in choices["visits"]] == [
            v.encounter_id for v in doe["visits"]]
        assert [v["service_date"] for v in choices["visits"]] == [
            date(2025, 1, 10), *(date(2025, 2, day) for day in range(1, 5))]
        assert choices["lines"] == whole_lines(answer)
        assert len(choices["lines"]) == 6
        assert [x["reversed"] for x in choices["lines"]] == [False] * 4 + [True, False]
        assert sum(x["balance_cents"] for x in choices["lines"]) == answer["balance_cents"]
        assert [(c["claim_id"], c["state"]) for c in choices["claims"]] == [
            (c["claim_id"], c["state"]) for c in answer["claims"]]
        assert choices["claims"][0]["claim_id"] == doe["claim"]

    def test_a_page_of_the_answer_does_not_limit_them(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        paged = queries.account(doe["account"], page_size=2)
        assert len(paged["encounters"]) == 2
        choices = queries.account_choices(doe["account"])
        oldest = doe["visits"][0]
        assert [x["line_id"] for x in choices["lines"][:2]] == list(oldest.line_ids)
        assert choices["lines"][:2] == whole_lines(queries.account(doe["account"]))[:2]

    def test_as_of_leaves_out_later_visits_and_money(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        as_of = date(2025, 2, 2)
        choices = queries.account_choices(doe["account"], as_of=as_of)
        assert [v["service_date"] for v in choices["visits"]] == [
            date(2025, 1, 10), date(2025, 2, 1), date(2025, 2, 2)]
        assert choices["lines"] == whole_lines(queries.account(doe["account"], as_of=as_of))

    def test_an_unknown_account_is_not_found(self, queries: BillingQueries,
                                             practice: Practice) -> None:
        with pytest.raises(NotFoundError):
            queries.account_choices("NOPE")
