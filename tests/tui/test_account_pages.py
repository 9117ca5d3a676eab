"""Paging by keys: the account's visits, claims and ledger, and the history timeline, hold one
page each, the latest first; up past the first row (or `[`) reads the page before, down past
the last (or `]`) the page after, with the same running figures as the whole history."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from domain.money import Cents, format_usd
from tests.builders import open_visit, register_patient, submitted_claim
from tests.tui.conftest import Desk, open_account, settle
from tui.screens.account import AccountScreen
from tui.screens.history import HistoryScreen


def usd(cents: int) -> str:
    return format_usd(Cents(cents))


@pytest.fixture
def many(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> str:
    """MANY, MARY: five self-pay visits of $50 (Oct 1-5, 2024), then $120 paid on Nov 1,
    so eight ledger rows: five charges, then three payments oldest balance first. Pages of
    three rows (visits: two) make them span several pages."""
    account = register_patient(desk.ledger, last_name="MANY", first_name="MARY", coverage=())
    for day in range(1, 6):
        open_visit(desk.ledger, account, charges=("93000",), service_date=date(2024, 10, day),
                   self_pay=True)
    desk.ledger.post_patient_payment(account, 12_000, paid_on=date(2024, 11, 1))
    monkeypatch.setattr(AccountScreen, "page_size", 3)
    monkeypatch.setattr(HistoryScreen, "page_size", 4)
    return account


def rows(app: Any, name: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{name}", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def ledger_figures(events: list[dict[str, Any]]) -> list[list[str]]:
    """Amount, balance, insurance, patient, agency as the ledger tab shows them."""
    return [[usd(e["amount_cents"]), usd(e["balance_cents"]), usd(e["insurance_cents"]),
             usd(e["patient_cents"]), usd(e["agency_cents"])] for e in events]


def caption(app: Any, name: str) -> str:
    pages = app.screen.query_one(f"#{name}-pages", Static)
    return str(pages.content) if pages.display else ""


async def open_tab(pilot: Any, account: str, rights: int) -> DataTable:  # type: ignore[type-arg]
    await open_account(pilot, account)
    await pilot.press(*["right"] * rights)
    await settle(pilot)
    await pilot.press("tab")   # from the tabs into the tab's table
    await settle(pilot)
    table = pilot.app.screen.focused
    assert isinstance(table, DataTable)
    return table


class TestLedgerPages:
    async def test_the_ledger_opens_on_its_latest_rows_and_pages_back_and_forth_by_keys(
            self, desk: Desk, many: str) -> None:
        app = desk.app()
        whole = [e for e in desk.queries.account_history(many, as_of=app.as_of)
                 if e["amount_cents"] or "amount_cents" in e["details"]]
        assert len(whole) == 8
        async with app.run_test(size=(120, 30)) as pilot:
            ledger = await open_tab(pilot, many, 3)
            assert ledger.id == "ledger"

            def shown() -> list[list[str]]:
                return [row[4:9] for row in rows(app, "ledger")]

            assert shown() == ledger_figures(whole[-3:])
            assert shown()[-1] == ["-$20.00", "$130.00", "$0.00", "$130.00", "$0.00"]
            assert "[ earlier" in caption(app, "ledger")
            assert "] later" not in caption(app, "ledger")

            await pilot.press("up")            # on the first row: the page before
            await settle(pilot)
            assert shown() == ledger_figures(whole[-6:-3])
            assert ledger.cursor_row == 2      # it lands on that page's last row
            await pilot.press("left_square_bracket")
            await settle(pilot)
            assert shown() == ledger_figures(whole[:2])
            assert "[ earlier" not in caption(app, "ledger")
            await pilot.press("up")            # nothing before the first page
            await settle(pilot)
            assert shown() == ledger_figures(whole[:2])

            await pilot.press("down", "down")  # past the last row: the page after
            await settle(pilot)
            assert shown() == ledger_figures(whole[2:5])
            assert ledger.cursor_row == 0
            await pilot.press("right_square_bracket")
            await settle(pilot)
            assert shown() == ledger_figures(whole[5:8])
            assert "] later" not in caption(app, "ledger")

    async def test_a_reload_keeps_the_page_until_the_date_moves(
            self, desk: Desk, many: str) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_tab(pilot, many, 3)
            await pilot.press("up")
            await settle(pilot)
            earlier = rows(app, "ledger")
            screen = app.screen
            assert isinstance(screen, AccountScreen)
            screen.reload()
            await settle(pilot)
            assert rows(app, "ledger") == earlier
            app.set_as_of(date(2024, 10, 31))  # before the payment: the latest page again
            await settle(pilot)
            assert [row[1] for row in rows(app, "ledger")] == ["Charge"] * 3
            assert rows(app, "ledger")[-1][5] == "$250.00"


class TestVisitAndClaimPages:
    async def test_visits_open_on_the_latest_and_turn_back_to_the_first(
            self, desk: Desk, many: str) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            lines = await open_tab(pilot, many, 1)
            assert lines.id == "lines"

            def dates() -> list[str]:
                return [row[0] for row in rows(app, "lines")]

            assert dates() == ["2024-10-03", "2024-10-04", "2024-10-05"]
            assert caption(app, "lines").startswith("visits 3-5 of 5")
            # The payment went to the oldest balances: visits 1 and 2 paid, 3 owes $30.
            assert [row[5] for row in rows(app, "lines")] == ["$30.00", "$50.00", "$50.00"]
            await pilot.press("up")
            await settle(pilot)
            assert dates() == ["2024-10-01", "2024-10-02"]
            assert caption(app, "lines").startswith("visits 1-2 of 5")
            assert lines.cursor_row == 1
            await pilot.press("down")
            await settle(pilot)
            assert dates() == ["2024-10-03", "2024-10-04", "2024-10-05"]
            await pilot.press("home")          # the first page, as Home reaches the first row
            await settle(pilot)
            assert dates() == ["2024-10-01", "2024-10-02", "2024-10-03"]
            assert lines.cursor_row == 0
            await pilot.press("end")
            await settle(pilot)
            assert dates() == ["2024-10-03", "2024-10-04", "2024-10-05"]
            assert lines.cursor_row == 2

    async def test_claims_open_on_the_latest_and_turn_back_by_keys(
            self, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
        account = register_patient(desk.ledger, last_name="CLAIMS", first_name="CARL")
        claims = [submitted_claim(desk.ledger, open_visit(
            desk.ledger, account, charges=("93000",),
            service_date=date(2024, 11, day)).encounter_id) for day in range(1, 5)]
        monkeypatch.setattr(AccountScreen, "page_size", 3)
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            table = await open_tab(pilot, account, 2)
            assert table.id == "claims"
            assert [row[0] for row in rows(app, "claims")] == claims[1:]
            assert caption(app, "claims").startswith("claims 2-4 of 4")
            await pilot.press("left_square_bracket")
            await settle(pilot)
            assert [row[0] for row in rows(app, "claims")] == claims[:1]
            await pilot.press("end")
            await settle(pilot)
            assert [row[0] for row in rows(app, "claims")] == claims[1:]
            assert table.cursor_row == 2

    async def test_one_page_of_claims_shows_no_page_caption(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_tab(pilot, desk.insured, 2)
            assert len(rows(app, "claims")) == 1
            assert caption(app, "claims") == ""


class TestTimelinePages:
    async def test_the_timeline_pages_by_keys_and_home_and_end_reach_the_ends(
            self, desk: Desk, many: str) -> None:
        app = desk.app()
        whole = desk.queries.account_history(many, as_of=app.as_of)
        async with app.run_test(size=(120, 30)) as pilot:
            await open_account(pilot, many)
            await pilot.press("h")
            await settle(pilot)
            assert isinstance(app.screen, HistoryScreen)
            timeline = app.screen.query_one("#timeline", DataTable)

            def balances() -> list[str]:
                return [row[3] for row in rows(app, "timeline")]

            assert balances() == [usd(e["balance_cents"]) for e in whole[-4:]]
            assert timeline.cursor_row == 3
            for _ in range(4):
                await pilot.press("up")
            await settle(pilot)
            assert balances() == [usd(e["balance_cents"]) for e in whole[-8:-4]]
            bar = str(app.screen.query_one("#as-of-bar", Static).content)
            assert f"As of {whole[-5]['effective_date'].isoformat()}" in bar

            await pilot.press("home")
            await settle(pilot)
            assert balances() == [usd(e["balance_cents"]) for e in whole[:4]]
            assert timeline.cursor_row == 0
            await pilot.press("end")
            await settle(pilot)
            assert balances() == [usd(e["balance_cents"]) for e in whole[-4:]]
            assert timeline.cursor_row == 3
