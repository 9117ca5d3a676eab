"""`h`: the auditor's timeline; moving the cursor shows the account as it stood then."""

from __future__ import annotations

from datetime import date

from textual.widgets import DataTable, Static

from domain.money import Cents, format_usd
from tests.tui.conftest import Desk, open_account, screen_text, settle
from tui.screens.history import HistoryScreen


def usd(cents: int) -> str:
    return format_usd(Cents(cents))


async def test_every_event_of_the_account_is_on_the_timeline_in_order(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        history = desk.queries.account_history(desk.insured, as_of=app.as_of)
        timeline = app.screen.query_one("#timeline", DataTable)
        assert timeline.row_count == len(history)
        for index, event in enumerate(history):
            row = timeline.get_row_at(index)
            assert str(row[3]) == usd(event["balance_cents"])
            assert str(row[4]) == event["actor"]
        assert "biller" in screen_text(app)


async def test_moving_the_cursor_shows_the_balances_as_they_stood(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("h")
        await settle(pilot)
        history = desk.queries.account_history(desk.insured, as_of=app.as_of)
        charge = next(i for i, e in enumerate(history) if e["type"] == "ChargeEntered")
        timeline = app.screen.query_one("#timeline", DataTable)
        for _ in range(timeline.cursor_row - charge):
            await pilot.press("up")
        await settle(pilot)
        assert timeline.cursor_row == charge
        on = history[charge]["effective_date"]
        then = desk.queries.account(desk.insured, as_of=on)
        bar = str(app.screen.query_one("#as-of-bar", Static).content)
        assert f"As of {on.isoformat()}" in bar
        assert f"balance {usd(then['balance_cents'])}" in bar
        # On the date of service the payer held all of it; today the patient holds the rest.
        assert then["balance_cents"] == 20000
        assert "ACME HEALTH PLAN $200.00" in bar or "12345 $200.00" in bar


async def test_the_source_names_the_era_file_and_segment(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("h")
        await settle(pilot)
        history = desk.queries.account_history(desk.insured, as_of=app.as_of)
        payment = next(i for i, e in enumerate(history) if e["type"] == "PaymentPosted")
        timeline = app.screen.query_one("#timeline", DataTable)
        for _ in range(timeline.cursor_row - payment):
            await pilot.press("up")
        await settle(pilot)
        bar = str(app.screen.query_one("#as-of-bar", Static).content)
        assert "source era:" in bar
        assert str(timeline.get_row_at(payment)[7]).startswith("era:")


async def test_enter_makes_the_cursor_date_the_workstation_as_of(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("h")
        await settle(pilot)
        history = desk.queries.account_history(desk.insured, as_of=app.as_of)
        charge = next(i for i, e in enumerate(history) if e["type"] == "ChargeEntered")
        timeline = app.screen.query_one("#timeline", DataTable)
        timeline.move_cursor(row=charge)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.as_of == date(2025, 1, 10)
        # The timeline now ends at that date: later events are not shown.
        assert timeline.row_count == len(
            desk.queries.account_history(desk.insured, as_of=date(2025, 1, 10)))
        assert timeline.row_count < len(history)
