"""`/` finds an account by DOB and by member id too, as the biller types."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.tui.conftest import Desk, screen_text, settle
from tui.screens.account import AccountScreen


def result_keys(app: object) -> list[str]:
    table = app.screen.query_one("#results", DataTable)  # type: ignore[attr-defined]
    return [str(table.coordinate_to_cell_key((r, 0)).row_key.value)
            for r in range(table.row_count)]


async def test_find_by_birth_date_in_either_form(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"1990-02")
        await settle(pilot)
        assert result_keys(app) == [desk.waiting]
        assert "SMITH, ANN" in screen_text(app)
        await pilot.press("ctrl+a", "ctrl+k", *"06/15/1975")
        await settle(pilot)
        assert result_keys(app) == [desk.self_pay]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.account_no == desk.self_pay


async def test_find_by_member_id_narrows_as_it_is_typed(desk: Desk) -> None:
    member_id = f"W{desk.waiting}1"
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", "w")
        await settle(pilot)
        # Both insured patients have W... member ids; ROE is self-pay.
        assert sorted(result_keys(app)) == sorted([desk.insured, desk.waiting])
        await pilot.press(*member_id[1:].lower())
        await settle(pilot)
        assert result_keys(app) == [desk.waiting]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.account_no == desk.waiting
