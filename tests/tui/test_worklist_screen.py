"""`j`: the worklist screen, driven by keys, checked against what the ledger recorded.

On the fixed desk, a second DOE visit is denied CO-197 and ROE's self-pay balance has an
overdue statement; the supervisor gives both to the biller. The biller opens the worklist,
logs ROE's promise to pay, appeals the denial and writes the appeal letter, all by keys.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import recorded_since
from tests.domain.test_follow_up import denied_claim
from tests.tui.conftest import Desk, fill, screen_text, settle
from tui.dialogs.appeal import AppealDialog
from tui.dialogs.follow_up import AssignDialog, FollowUpDialog
from tui.screens.account import AccountScreen
from tui.screens.worklist import WorklistScreen
from tui.widgets.paged_table import PagedTable


@pytest.fixture
def work(desk: Desk) -> dict[str, Any]:
    desk.ledger.seed_role_users()
    denied = denied_claim(desk.ledger)
    desk.ledger.issue_statement(desk.self_pay, issued_on=date(2024, 11, 1))
    supervisor = BillingLedger(env=resolve_store(str(desk.path)).event_store_env(),
                               actor="supervisor")
    supervisor.assign_work([f"claim:{denied.claim_id}", f"account:{desk.self_pay}"], "biller")
    supervisor.close()
    desk.queries.catch_up()
    return {"claim": f"claim:{denied.claim_id}", "claim_id": denied.claim_id,
            "roe": f"account:{desk.self_pay}"}


def table_items(app: Any) -> list[str]:
    table = app.screen.query_one(PagedTable)
    return [str(table.coordinate_to_cell_key((r, 0)).row_key.value)
            for r in range(table.row_count)]


async def test_j_opens_my_worklist_by_value_times_age(desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        assert table_items(app) == [work["claim"], work["roe"]]
        text = screen_text(app)
        assert "biller worklist as of 2025-03-10: 2 to work, $200.00; 0 waiting" in text
        assert "denials" in text and "delinquent" in text
        await pilot.press("u")          # the unassigned pool: nothing left in it
        await settle(pilot)
        assert table_items(app) == []
        await pilot.press("u")          # everyone's
        await settle(pilot)
        assert table_items(app) == [work["claim"], work["roe"]]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_logging_a_promise_takes_the_account_off_until_its_date(
        desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app()
    start = desk.ledger.events_count()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("down", "l")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpDialog)
        await fill(pilot, {"outcome": "promise-to-pay", "note": "pays on the 20th",
                           "promise_on": "2025-03-20", "promise_cents": "20.00"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        assert table_items(app) == [work["claim"]]
        assert "1 waiting" in screen_text(app)
        await pilot.press("v")
        await settle(pilot)
        assert table_items(app) == [work["claim"], work["roe"]]
        assert "2025-03-21" in screen_text(app)
    [logged] = [e for e in recorded_since(desk.ledger, start)
                if type(e).__name__ == "ActivityLogged"]
    assert (logged.outcome, logged.promise_on, logged.promise_cents, logged.actor) == (
        "promise-to-pay", date(2025, 3, 20), 2_000, "biller")


async def test_a_refused_follow_up_keeps_the_form_open_with_the_reason(
        desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("l")                       # the claim: payer outcomes
        await settle(pilot)
        await fill(pilot, {"outcome": "payer-denied"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpDialog)
        assert "say why the payer denied it" in screen_text(app)


async def test_appeal_and_its_letter_by_keys(desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app()
    start = desk.ledger.events_count()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, AppealDialog)
        await fill(pilot, {"argument": "Authorization AUTH-778 was on file"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        await pilot.press("v")
        await settle(pilot)
        assert table_items(app) == [work["roe"], work["claim"]]   # waiting items come last
        await pilot.press("down", "t")
        await settle(pilot)
    events = recorded_since(desk.ledger, start)
    names = [type(e).__name__ for e in events]
    assert names == ["Opened", "AppealFiled", "DenialWorked", "AppealLetterGenerated"]
    assert events[1].deadline == date(2025, 7, 31)
    assert work["claim_id"] in events[3].text and "AUTH-778" in events[3].text
    assert desk.ledger.appeal_letter_pdf(work["claim_id"]).startswith(b"%PDF")


async def test_only_a_supervisor_assigns_and_an_account_is_not_appealed(
        desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app()
    start = desk.ledger.events_count()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, AssignDialog)
        await fill(pilot, {"user": "biller"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AssignDialog)
        assert "Permission denied: assign work needs the supervisor role; biller has the" in (
            screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("down", "p")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
    assert desk.ledger.events_count() == start


async def test_an_auditor_reads_the_worklist_but_records_nothing(
        desk: Desk, work: dict[str, Any]) -> None:
    app = desk.app(read_only=True, user="auditor")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("u", "u")
        await settle(pilot)
        assert table_items(app) == [work["claim"], work["roe"]]
        await pilot.press("l", "p", "t", "s")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
