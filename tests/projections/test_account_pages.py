"""The account screen's pages: the latest visits, claims and ledger rows, and the pages before
them, with the same balances and running figures as the whole answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.errors import NotFoundError
from projections.queries import BillingQueries
from tests.builders import (
    PRIMARY,
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)

# Each step of the fixture is recorded on its own day, so known-at can cut between them.
REMIT_KNOWN = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def doe(ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        frozen_clock: FrozenDateTimeFactory) -> dict[str, Any]:
    """Visit 1 (Jan 10, $200) paid by the primary as in the worked example, so the patient
    owes $50; visit 2 (Feb 20, $50) billed to the primary; the patient pays $60 on Mar 5
    ($10 over) and asks for the $10 back."""
    account = register_patient(ledger)
    first = open_visit(ledger, account)
    first_claim = submitted_claim(ledger, first.encounter_id)
    frozen_clock.move_to(datetime(2025, 3, 11, 9, 0, tzinfo=UTC))
    ledger.post_remittance(worked_example_remit(first_claim))
    frozen_clock.move_to(datetime(2025, 3, 12, 9, 0, tzinfo=UTC))
    second = open_visit(ledger, account, charges=("93000",), service_date=date(2025, 2, 20))
    second_claim = submitted_claim(ledger, second.encounter_id, submitted_on=date(2025, 2, 21),
                                   batch_id="B2")
    frozen_clock.move_to(datetime(2025, 3, 13, 9, 0, tzinfo=UTC))
    ledger.post_patient_payment(account, 6_000, paid_on=date(2025, 3, 5))
    request_id = ledger.request_refund(account, 1_000, reason="overpaid")
    return {"account": account, "visits": [first.encounter_id, second.encounter_id],
            "claims": [first_claim, second_claim], "request_id": request_id}


def money(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledger tab's rows: events that name an amount."""
    return [e for e in history if e["amount_cents"] or "amount_cents" in e["details"]]


def walk_back(queries: BillingQueries, account: str, limit: int,
              **when: Any) -> list[dict[str, Any]]:
    """Every page from the latest back to the first, joined in order."""
    page = queries.history_page(account, limit=limit, **when)
    assert page["later"] is False
    pages = [page["events"]]
    while page["earlier"]:
        page = queries.history_page(account, limit=limit,
                                    before=page["events"][0]["position"], **when)
        assert page["later"] is True
        pages.insert(0, page["events"])
    return [row for rows in pages for row in rows]


class TestLedgerPages:
    def test_the_latest_ledger_page_ends_with_the_accounts_balance_and_split(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        page = queries.history_page(doe["account"], limit=4, money_only=True)

        assert [(e["type"], e["amount_cents"], e["balance_cents"], e["insurance_cents"],
                 e["patient_cents"], e["agency_cents"]) for e in page["events"]] == [
            # $60 from the patient: $20 and $30 of visit 1, $10 more than visit 2's nothing.
            ("PaymentPosted", -2_000, 8_000, 5_000, 3_000, 0),
            ("PaymentPosted", -3_000, 5_000, 5_000, 0, 0),
            ("PaymentPosted", -1_000, 4_000, 5_000, -1_000, 0),
            # A request moves no money yet: the ledger shows it, with the same figures.
            ("RefundRequested", 0, 4_000, 5_000, -1_000, 0)]
        assert (page["earlier"], page["later"]) == (True, False)
        answer = queries.account(doe["account"], page_size=1)
        assert (answer["balance_cents"], answer["insurance_cents"],
                answer["patient_cents"], answer["credit_cents"]) == (4_000, 5_000, -1_000, 1_000)

    @pytest.mark.parametrize("limit", [1, 2, 3, 5, 50])
    def test_walking_back_page_by_page_gives_the_whole_ledger_with_its_running_figures(
            self, queries: BillingQueries, doe: dict[str, Any], limit: int) -> None:
        whole = queries.account_history(doe["account"])

        assert walk_back(queries, doe["account"], limit, money_only=True) == money(whole)
        assert walk_back(queries, doe["account"], limit) == whole

    def test_walking_forward_from_the_first_event_gives_the_same_rows(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        whole = queries.account_history(doe["account"])
        page = queries.history_page(doe["account"], limit=4, after=0)
        assert page["earlier"] is False
        rows = list(page["events"])
        while page["later"]:
            page = queries.history_page(doe["account"], limit=4,
                                        after=page["events"][-1]["position"])
            assert page["earlier"] is True
            rows += page["events"]
        assert rows == whole

    def test_account_history_before_and_after_a_position(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        whole = queries.account_history(doe["account"])
        middle = whole[10]["position"]

        assert queries.account_history(doe["account"], limit=3, before=middle) == whole[7:10]
        assert queries.account_history(doe["account"], before=middle) == whole[:10]
        assert queries.account_history(doe["account"], limit=3, after=middle) == whole[11:14]
        assert queries.account_history(doe["account"], after=middle) == whole[11:]
        with pytest.raises(ValueError, match="not both"):
            queries.account_history(doe["account"], offset=2, before=middle)

    @pytest.mark.parametrize("as_of", [date(2025, 1, 10), date(2025, 2, 1), date(2025, 2, 25)])
    def test_pages_as_of_a_date_join_up_to_that_days_history(
            self, queries: BillingQueries, doe: dict[str, Any], as_of: date) -> None:
        whole = queries.account_history(doe["account"], as_of=as_of)

        assert walk_back(queries, doe["account"], 2, as_of=as_of, money_only=True) == (
            money(whole))
        assert walk_back(queries, doe["account"], 3, as_of=as_of) == whole
        balance = queries.account(doe["account"], as_of=as_of, page_size=1)["balance_cents"]
        assert money(whole)[-1]["balance_cents"] == balance

    def test_pages_known_at_an_instant_leave_out_what_was_recorded_later(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        known = {"as_of": date(2025, 3, 31), "known_at": REMIT_KNOWN}
        whole = queries.account_history(doe["account"], **known)

        assert walk_back(queries, doe["account"], 2, money_only=True, **known) == money(whole)
        assert money(whole)[-1]["type"] == "ResponsibilityTransferred"
        assert (money(whole)[-1]["balance_cents"], money(whole)[-1]["patient_cents"]) == (
            5_000, 5_000)

    def test_an_account_without_events_by_the_date_has_an_empty_page(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        page = queries.history_page(doe["account"], as_of=date(2024, 1, 1), money_only=True)
        assert page == {"events": [], "earlier": False, "later": False}
        with pytest.raises(NotFoundError):
            queries.history_page("NOSUCH1")


class TestAccountPages:
    def test_a_page_of_the_account_is_the_whole_answer_cut_to_the_latest_visits_and_claims(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        for when in ({}, {"as_of": date(2025, 2, 1)},
                     {"as_of": date(2025, 3, 31), "known_at": REMIT_KNOWN}):
            whole = queries.account(doe["account"], **when)
            page = queries.account(doe["account"], page_size=1, **when)

            assert {k: v for k, v in page.items() if k not in ("encounters", "claims")} == {
                k: v for k, v in whole.items() if k not in ("encounters", "claims")}
            assert page["encounters"] == whole["encounters"][-1:]
            assert page["claims"] == whole["claims"][-1:]

    def test_the_counts_say_how_many_visits_and_claims_there_are(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        page = queries.account(doe["account"], page_size=1)
        assert (page["visit_count"], page["claim_count"]) == (2, 2)
        then = queries.account(doe["account"], as_of=date(2025, 2, 1), page_size=1)
        # Claims count from the day they were created (today), visits from the DOS.
        assert (then["visit_count"], then["claim_count"]) == (1, 0)
        assert [e["encounter_id"] for e in then["encounters"]] == doe["visits"][:1]

    def test_visits_and_claims_turn_pages_by_offset(
            self, queries: BillingQueries, doe: dict[str, Any]) -> None:
        whole = queries.account(doe["account"])

        first = queries.account_visits(doe["account"], limit=1, offset=0)
        latest = queries.account_visits(doe["account"], limit=1)
        claims = queries.account_claims(doe["account"], limit=1, offset=0)

        assert first == {"encounters": whole["encounters"][:1], "total": 2, "offset": 0}
        assert latest == {"encounters": whole["encounters"][1:], "total": 2, "offset": 1}
        assert [e["balance_cents"] for e in whole["encounters"]] == [0, 4_000]
        assert claims == {"claims": whole["claims"][:1], "total": 2, "offset": 0}
        assert [c["claim_id"] for c in whole["claims"]] == doe["claims"]
        with pytest.raises(NotFoundError):
            queries.account_visits("NOSUCH1")

    def test_a_refund_request_is_pending_until_a_supervisor_decides(
            self, queries: BillingQueries, doe: dict[str, Any], ledger_factory: Any) -> None:
        pending = [{"request_id": doe["request_id"], "amount_cents": 1_000,
                    "reason": "overpaid", "requested_on": date(2025, 3, 13)}]
        assert queries.account(doe["account"], page_size=1)["pending_refunds"] == pending
        assert queries.account(doe["account"], as_of=date(2025, 3, 12))[
            "pending_refunds"] == []

        ledger_factory(actor="supervisor").approve_refund(doe["account"], doe["request_id"])
        queries.catch_up()

        assert queries.account(doe["account"], page_size=1)["pending_refunds"] == []
        assert queries.account(doe["account"])["by_party"] == {PRIMARY: 5_000}
