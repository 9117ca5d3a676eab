"""Issue 10: a biller's workstation opens on their worklist; its actions are in the palette."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.tui.conftest import Desk, screen_text, settle
from tui.dialogs.follow_up import FollowUpDialog
from tui.screens.home import HomeScreen
from tui.screens.worklist import WorklistScreen


@pytest.fixture
def assigned(desk: Desk) -> str:
    """Users per role (an open demo ledger); ROE's overdue balance is the biller's to work."""
    desk.ledger.seed_role_users()
    desk.ledger.issue_statement(desk.self_pay, issued_on=date(2024, 11, 1))
    supervisor = BillingLedger(env=resolve_store(str(desk.path)).event_store_env(),
                               actor="supervisor")
    supervisor.assign_work([f"account:{desk.self_pay}"], "biller")
    supervisor.close()
    desk.queries.catch_up()
    return f"account:{desk.self_pay}"


async def palette(pilot: Any, query: str) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*query)
    await settle(pilot)


class TestTheBillersDayStartsAtTheWorklist:
    async def test_a_biller_sees_their_worklist_first_and_escape_reaches_the_desk(
            self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="biller")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, WorklistScreen)
            assert app.screen.view == "mine"
            assert assigned in screen_text(app)
            assert "biller worklist as of 2025-03-10: 1 to work" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert len(app.screen_stack) == 1

    @pytest.mark.parametrize("user", ["supervisor", "registrar", "someone"])
    async def test_other_roles_and_unknown_users_start_at_the_desk(
            self, desk: Desk, assigned: str, user: str) -> None:
        app = desk.app(user=user)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert "j  my worklist" in screen_text(app)

    async def test_a_ledger_without_users_starts_at_the_desk(self, desk: Desk) -> None:
        app = desk.app(user="biller")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)

    async def test_a_key_pressed_at_once_never_stacks_a_second_worklist(
            self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="biller")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("a")
            await settle(pilot)
            assert type(app.screen).__name__ in ("DashboardScreen", "WorklistScreen")
            assert sum(isinstance(s, WorklistScreen) for s in app.screen_stack) <= 1


class TestWorklistActionsInThePalette:
    async def test_my_worklist_is_reachable_from_anywhere(
            self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="supervisor")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await palette(pilot, "my worklist")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, WorklistScreen)

    async def test_log_a_call_from_the_palette_on_the_selected_item(
            self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="biller")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, WorklistScreen)
            await palette(pilot, "log call")
            assert "Log call or letter (worklist)" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, FollowUpDialog)
            assert app.screen.context["item"] == assigned

    async def test_views_switch_from_the_palette(self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="biller")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await palette(pilot, "mine / pool")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, WorklistScreen)
            assert app.screen.view == "unassigned"

    async def test_read_only_the_palette_offers_only_what_records_nothing(
            self, desk: Desk, assigned: str) -> None:
        app = desk.app(user="auditor", read_only=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("j")
            await settle(pilot)
            await palette(pilot, "worklist")
            text = screen_text(app)
            assert "Refresh worklist (worklist)" in text
            for title in ("Log call", "Appeal denial", "Write appeal letter", "Assign item"):
                assert title not in text, title
