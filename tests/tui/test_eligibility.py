"""Issue 9 in the workstation: each policy's last eligibility answer on the account screen,
and the queue of inactive answers and payer rejections under `w`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from textual.widgets import DataTable, Select

from tests.tui.conftest import Desk, open_account, screen_text, settle
from tui.screens.account import AccountScreen, eligibility_text
from tui.screens.queues import QueueScreen
from tui.widgets.paged_table import PagedTable

TODAY = date(2025, 3, 10)
REJECTED = "rejected by payer: AAA 72 invalid/missing subscriber/insured id"


@pytest.fixture
def checked(desk: Desk) -> dict[str, Any]:
    """DOE's primary answered active with benefits; SMITH's primary rejected by the payer."""
    (doe_policy,) = [c["policy_id"] for c in desk.queries.account(desk.insured)["coverage"]]
    (smith_policy,) = [c["policy_id"] for c in desk.queries.account(desk.waiting)["coverage"]]
    desk.ledger.record_eligibility(
        desk.insured, doe_policy, active=True, service_on=TODAY, checked_on=TODAY,
        copay_cents=2_000, deductible_remaining_cents=50_000, trace_number="T-DOE-1",
        source="271")
    desk.ledger.record_eligibility(
        desk.waiting, smith_policy, active=False, service_on=date(2025, 3, 12),
        checked_on=TODAY, trace_number="T-SMITH-1", source="271", message=REJECTED)
    return {"doe_policy": doe_policy, "smith_policy": smith_policy}


def coverage_cells(app: Any) -> list[str]:
    table = app.screen.query_one("#coverage", DataTable)
    return [str(cell) for cell in table.get_row_at(0)]


class TestTheAccountShowsTheLastAnswer:
    async def test_an_active_answer_with_copay_and_deductible_left(
            self, desk: Desk, checked: dict[str, Any]) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_account(pilot, desk.insured)
            assert isinstance(app.screen, AccountScreen)
            shown = "active 2025-03-10 · copay $20.00 · ded left $500.00"
            assert shown in coverage_cells(app)
            assert "Eligibility" in screen_text(app)
            assert shown in screen_text(app)

    async def test_a_rejection_says_inactive_with_the_payers_reason(
            self, desk: Desk, checked: dict[str, Any]) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.waiting)
            (cell,) = [c for c in coverage_cells(app) if c.startswith("INACTIVE")]
            assert cell.startswith("INACTIVE: rejected by payer: AAA 72")
            assert "INACTIVE: rejected by payer" in screen_text(app)

    async def test_a_policy_never_checked_says_so(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            assert "not checked" in coverage_cells(app)


def test_the_answer_in_words() -> None:
    assert eligibility_text(None) == "not checked"
    assert eligibility_text({"active": False, "message": "", "service_on": "2025-03-01"}) == (
        "INACTIVE: on 2025-03-01")
    assert eligibility_text({"active": True, "service_on": "2025-03-01", "copay_cents": None,
                             "coinsurance_percent": 20,
                             "out_of_pocket_remaining_cents": 123_456}) == (
        "active 2025-03-01 · OOP left $1,234.56 · coins 20%")


class TestTheEligibilityQueue:
    async def test_w_lists_the_rejection_and_enter_opens_the_account(
            self, desk: Desk, checked: dict[str, Any]) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("w")
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            assert "eligibility" in app.queue_names
            app.screen.query_one("#queue-name", Select).value = "eligibility"
            await settle(pilot)
            table = app.screen.query_one(PagedTable)
            assert table.row_count == 1
            text = screen_text(app)
            assert desk.waiting in text and "SMITH, ANN" in text
            assert "T-SMITH-1" in text and "rejected by payer" in text
            assert "eligibility: rows 1-1 of 1" in text
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert app.screen.account_no == desk.waiting

    async def test_the_queue_opens_from_the_command_palette(
            self, desk: Desk, checked: dict[str, Any]) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("w")
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Queue: eligibility")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            assert app.screen.queue_name == "eligibility"
            assert "T-SMITH-1" in screen_text(app)
