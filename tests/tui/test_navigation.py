"""The fixed keys take the biller everywhere; escape goes back, q quits, ? lists the keys."""

from __future__ import annotations

from textual.widgets import DataTable, HelpPanel

from domain.money import Cents, format_usd
from tests.tui.conftest import Desk, screen_text, settle
from tui.screens.account import AccountScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.find import FindScreen
from tui.screens.history import HistoryScreen
from tui.screens.home import HomeScreen
from tui.screens.imports import ImportScreen
from tui.screens.queues import QueueScreen


async def test_the_home_screen_lists_the_fixed_keys_and_counts_the_events(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert isinstance(app.screen, HomeScreen)
        assert "find an account" in text
        assert f"{desk.ledger.events_count():,} events recorded" in text
        assert "as of 2025-03-10" in text


async def test_each_fixed_key_opens_its_screen_and_escape_comes_back(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, screen in (("a", DashboardScreen), ("w", QueueScreen), ("i", ImportScreen),
                            ("slash", FindScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen), key
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)


async def test_pressing_a_key_twice_does_not_stack_the_same_screen(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "a")
        await settle(pilot)
        assert len(app.screen_stack) == 2


async def test_history_needs_an_account_first(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert any("Open an account first" in n.message for n in app._notifications)


async def test_question_mark_shows_every_key_of_the_screen(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        await settle(pilot)
        assert not app.screen.query(HelpPanel)


async def test_q_quits(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_find_is_incremental_and_enter_opens_the_account(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await settle(pilot)
        table = app.screen.query_one("#results", DataTable)
        assert table.row_count == 3
        await pilot.press("r", "o")
        await settle(pilot)
        assert table.row_count == 1
        assert "ROE, JANE" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.account_no == desk.self_pay
        assert app.current_account == desk.self_pay


async def test_find_masks_birth_dates_until_revealed(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"smith")
        await settle(pilot)
        assert "1990-02-03" not in screen_text(app)
        assert "(1990)" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "1990-02-03" in screen_text(app)


async def test_the_command_palette_reaches_the_aging_dashboard(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"aging dash")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        total = format_usd(Cents(desk.queries.aging(as_of=app.as_of)["total_cents"]))
        assert total in screen_text(app)


async def test_the_palette_lists_the_account_actions_on_an_account(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_account(desk.insured)
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"write off")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "WriteOffDialog"


async def test_g_moves_every_view_to_another_date(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"2025-01-31", "enter")
        await settle(pilot)
        assert app.as_of.isoformat() == "2025-01-31"
        expected = desk.queries.aging(as_of=app.as_of)
        text = screen_text(app)
        assert f"A/R total {format_usd(Cents(expected['total_cents']))}" in text
        assert "as of 2025-01-31" in text


async def test_a_date_that_is_not_a_date_is_refused_in_the_dialog(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "ctrl+a", "ctrl+k", *"31/01/2025", "enter")
        await settle(pilot)
        assert "is not a date" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.as_of.isoformat() == "2025-03-10"


async def test_h_opens_the_history_of_the_current_account(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_account(desk.insured)
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)


async def test_find_by_claim_id_opens_the_claims_account(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *desk.claim_id.lower())
        await settle(pilot)
        assert "DOE, JOHN" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.account_no == desk.insured
