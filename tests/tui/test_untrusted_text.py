"""Names, addresses and payer names that look like markup are shown as typed, on every screen.

`SMITH [/JR]` read as markup crashed the workstation (MarkupError) and `12 MAIN ST [#2]`
lost its `[#2]`; here a patient and a payer full of brackets go through find, the account,
the history timeline, the work queues and the worklist, and each shows the literal text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from freezegun import freeze_time
from textual.widgets import DataTable, Input, Select, Static

from domain.application import BillingLedger
from domain.services import registration
from domain.storage import resolve_store
from domain.text import written_out
from tests.builders import EFFECTIVE, TODAY, open_visit, submitted_claim
from tests.tui.conftest import Desk, fill, open_account, screen_text, settle
from tui.app import BillingApp
from tui.screens.account import AccountScreen
from tui.screens.find import FindScreen
from tui.screens.history import HistoryScreen
from tui.screens.queues import QueueScreen
from tui.screens.worklist import WorklistScreen
from tui.widgets.literal import escape, literal

PAYER_NAME = "ODD [bold]HEALTH[/bold] [/JR] [link=x]PLAN"
LAST, FIRST = "SMITH [/JR]", "[bold]"          # registration upper-cases: "[BOLD]"
LINE1, CITY = "12 MAIN ST [#2]", "[link=x]TOWN"


@pytest.fixture
def odd(desk: Desk) -> dict[str, Any]:
    """A payer and a patient whose names are all brackets, with a claim sent to the payer."""
    ledger = desk.ledger
    with freeze_time(TODAY):
        ledger.register_payer("ODD01", PAYER_NAME)
        ledger.add_plan("ODD01", "ODDPPO", "Odd [/plan] PPO")
        account_no = ledger.register_patient(
            LAST, FIRST, date(1970, 1, 1), "M",
            address={"line1": LINE1, "city": CITY, "state": "IL", "zip": "62704"})
        ledger.add_coverage(account_no, "ODD01", "ODDPPO", "M123", effective_on=EFFECTIVE)
        visit = open_visit(ledger, account_no, service_date=date(2025, 1, 6))
        claim_id = submitted_claim(ledger, visit.encounter_id, submitted_on=date(2025, 1, 7),
                                   batch_id="B9")
    desk.queries.catch_up()
    return {"account_no": account_no, "claim_id": claim_id}


def cells(app: BillingApp, selector: str) -> list[str]:
    table = app.screen.query_one(selector, DataTable)
    return [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]


def static_text(app: BillingApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_find_lists_a_name_with_brackets_as_typed(desk: Desk, odd: dict[str, Any]) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("slash", *"smith")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        assert app.return_code is None
        assert f"{LAST}, [BOLD]" in cells(app, "#results")
        assert f"{LAST}, [BOLD]" in screen_text(app)
        # What the biller typed is quoted in the status line, brackets and all.
        await pilot.press("ctrl+a", "ctrl+k", *"[/x]")
        await settle(pilot)
        assert "'[/x]'" in static_text(app, "#find-status")


async def test_the_account_shows_name_address_and_payer_literally(
        desk: Desk, odd: dict[str, Any]) -> None:
    app = desk.app()
    async with app.run_test(size=(160, 40)) as pilot:
        await open_account(pilot, odd["account_no"])
        assert isinstance(app.screen, AccountScreen)
        assert app.return_code is None
        head = static_text(app, "#account-head")
        assert f"{LAST}, [BOLD]" in head
        assert LINE1 in head and CITY in head
        assert PAYER_NAME[:18] in head      # the balance split names the payer
        assert any(PAYER_NAME[:17] in cell for cell in cells(app, "#coverage"))
        assert PAYER_NAME in cells(app, "#claims")
        assert f"{LAST}, [BOLD]" in screen_text(app)
        # The forms' choices are labels read as markup too: the payer's name stays whole.
        parties = [str(label) for label, _ in app.screen._choices_parties()]
        assert escape(PAYER_NAME) in parties


async def test_history_names_the_payer_literally(desk: Desk, odd: dict[str, Any]) -> None:
    app = desk.app()
    async with app.run_test(size=(160, 40)) as pilot:
        await open_account(pilot, odd["account_no"])
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert app.return_code is None
        assert PAYER_NAME in static_text(app, "#as-of-bar")


async def test_queues_and_worklist_show_the_name_literally(
        desk: Desk, odd: dict[str, Any]) -> None:
    desk.ledger.seed_role_users()
    supervisor = BillingLedger(env=resolve_store(str(desk.path)).event_store_env(),
                               actor="supervisor")
    supervisor.assign_work([f"claim:{odd['claim_id']}"], "biller")
    supervisor.close()
    desk.queries.catch_up()
    app = desk.app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        app.screen.query_one("#queue-name", Select).value = "no-response"
        await settle(pilot)
        assert app.return_code is None
        assert odd["claim_id"] in cells(app, "#queue-table")
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        assert app.return_code is None
        assert any(cell.startswith(LAST) for cell in cells(app, "#worklist-table"))
        assert LAST in screen_text(app)


def test_control_characters_are_written_out_not_sent() -> None:
    assert written_out("DOE\x1b]0;pwned\x07") == "DOE\\x1b]0;pwned\\x07"
    assert written_out("A\x9bB\x7f") == "A\\x9bB\\x7f"
    assert literal("[b]x\x1b[2J").plain == "[b]x\\x1b[2J"
    assert escape("SMITH [/JR]") == "SMITH \\[/JR]"


@pytest.fixture
def legacy(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> str:
    """A name recorded before control characters were refused (as QA's markup.csv did)."""
    with monkeypatch.context() as before_the_rule, freeze_time(TODAY):
        before_the_rule.setattr(registration, "check_text", lambda what, value: None)
        account_no = desk.ledger.register_patient(
            "DOE\x1b]0;pwned\x07", "JANE", date(1971, 1, 1), "F", account_no="MRN901",
            address={"line1": "1 ELM\x1b[2J"})
    desk.queries.catch_up()
    return account_no


async def test_control_characters_in_a_name_are_shown_written_out(
        desk: Desk, legacy: str) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("slash", *"MRN901")
        await settle(pilot)
        assert "DOE\\x1b]0;PWNED\\x07, JANE" in cells(app, "#results")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        head = static_text(app, "#account-head")
        assert "DOE\\x1b]0;PWNED\\x07, JANE" in head and "1 ELM\\x1b[2J" in head
        assert "\x1b" not in screen_text(app)


async def test_the_new_patient_form_refuses_a_control_character(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await settle(pilot)
        before = desk.ledger.events_count()
        await fill(pilot, {"first_name": "JANE", "birth_date": "1980-01-01"})
        app.screen.query_one("#f-last_name", Input).value = "\x1b[2J"
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = static_text(app, "#error")
        assert "last name contains a control character (\\x1b)" in error
        assert desk.ledger.events_count() == before


async def test_a_form_or_dialog_error_quoting_brackets_typed_is_shown_not_parsed(
        desk: Desk) -> None:
    """The refusal quotes what was typed: `[/x]` in it crashed the app (MarkupError)."""
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("g", "ctrl+a", "ctrl+k", *"[/x]", "enter")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert "'[/x]' is not a date" in screen_text(app)
