"""`g` (go to date) refuses a date outside the accepted range; every view works at its ends."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from domain.clock import EARLIEST_DATE, LATEST_DATE
from tests.tui.conftest import Desk, screen_text, settle
from tui.dialogs.as_of import GoToDateDialog
from tui.dialogs.form import Field, FormError, parse_field

QUEUES = ("unbilled", "ready", "rejected", "denials", "no-response", "timely-filing",
          "underpaid", "credit-balances", "delinquent", "collections", "eligibility")


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
async def test_a_date_out_of_range_is_refused_in_the_dialog(desk: Desk, text: str) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("g", "ctrl+a", "ctrl+k", *text, "enter")
        await settle(pilot)
        assert isinstance(app.screen, GoToDateDialog)
        # The dialog wraps the message over lines: read it whole from its error line.
        assert str(app.screen.query_one("#error", Static).render()) == (
            f"'{text}' is outside the dates claimdesk accepts ({EARLIEST_DATE} to {LATEST_DATE})")
        await pilot.press("escape")
        await settle(pilot)
        assert app.as_of.isoformat() == "2025-03-10"
        assert app.is_running and app.return_code is None


@pytest.mark.parametrize("day", [EARLIEST_DATE, LATEST_DATE])
async def test_every_view_works_at_the_ends_of_the_range(desk: Desk, day: object) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("g", "ctrl+a", "ctrl+k", *str(day), "enter")
        await settle(pilot)
        assert app.as_of == day
        assert f"as of {day}" in screen_text(app)
        for name in QUEUES:
            app.action_open_queue(name)
            await settle(pilot)
            await pilot.press("down", "escape")
            await settle(pilot)
        assert app.is_running and app.return_code is None


def test_a_form_date_out_of_range_is_refused_next_to_the_field() -> None:
    spec = Field("service_date", "Date of service", kind="date")
    with pytest.raises(FormError, match=r"Date of service: '9999-12-31' is outside the dates "
                                        r"claimdesk accepts \(1900-01-01 to 2199-12-31\)"):
        parse_field(spec, "9999-12-31")
    assert parse_field(spec, "2199-12-31") == LATEST_DATE
