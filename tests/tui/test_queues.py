"""`w`: work queues page through 100k rows without mounting them all."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import Desk, screen_text, settle
from tui.app import BillingApp
from tui.screens.account import AccountScreen
from tui.widgets.paged_table import PAGE_SIZE, PagedTable

ROWS = 100_000


class BigQueues:
    """The real read queries plus a 100k-row queue (the queue read models are tested apart)."""

    def __init__(self, queries: Any, account_no: str) -> None:
        self.queries = queries
        self.account_no = account_no
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queries, name)

    def queue_names(self) -> list[dict[str, Any]]:
        return [{"name": "denials", "title": "Denials", "count": ROWS},
                {"name": "unbilled", "title": "Unbilled", "count": 0}]

    def queue_titles(self) -> list[dict[str, Any]]:
        return self.queue_names()

    def queue(self, name: str, *, limit: int = 200, offset: int = 0,
              sort: str | None = None, descending: bool = False,
              search: str | None = None) -> dict[str, Any]:
        self.calls.append({"name": name, "limit": limit, "offset": offset, "sort": sort,
                           "descending": descending, "search": search})
        if name != "denials":
            return {"rows": [], "total": 0}
        end = min(ROWS, offset + limit)
        rows = [{"claim_id": f"C{i:06d}", "account_no": self.account_no, "carc": "CO-16",
                 "denied_cents": i, "service_date": "2025-01-10"} for i in range(offset, end)]
        return {"rows": rows, "total": ROWS}


def app_with_big_queue(desk: Desk) -> tuple[BillingApp, BigQueues]:
    queues = BigQueues(desk.queries, desk.insured)
    return desk.app(), queues


async def test_a_100k_row_queue_opens_one_page_at_a_time(desk: Desk) -> None:
    queues = BigQueues(desk.queries, desk.insured)
    app = BillingApp(desk.ledger, queues, as_of=desk.app().as_of)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        assert table.row_count == PAGE_SIZE
        assert "rows 1-200 of 100,000" in screen_text(app)
        await pilot.press("end")
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.row_count == PAGE_SIZE
        assert table.page_offset == PAGE_SIZE
        assert "rows 201-400 of 100,000" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert table.page_offset == 2 * PAGE_SIZE
        await pilot.press("home", "up")
        await settle(pilot)
        assert table.page_offset == PAGE_SIZE
        assert table.cursor_row == PAGE_SIZE - 1
        assert max(call["limit"] for call in queues.calls) == PAGE_SIZE


async def test_sort_order_and_filter_go_to_the_query(desk: Desk) -> None:
    queues = BigQueues(desk.queries, desk.insured)
    app = BillingApp(desk.ledger, queues, as_of=desk.app().as_of)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert queues.calls[-1]["sort"] == "claim_id"
        await pilot.press("o")
        await settle(pilot)
        assert queues.calls[-1]["descending"] is True
        await pilot.press("f", *"CO-16", "enter")
        await settle(pilot)
        assert queues.calls[-1]["search"] == "CO-16"
        assert queues.calls[-1]["offset"] == 0


async def test_enter_on_a_row_opens_its_account(desk: Desk) -> None:
    queues = BigQueues(desk.queries, desk.insured)
    app = BillingApp(desk.ledger, queues, as_of=desk.app().as_of)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.account_no == desk.insured


async def test_queues_say_so_until_the_read_models_have_them(desk: Desk) -> None:
    if hasattr(desk.queries, "queue_names"):
        return
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("w")
        await settle(pilot)
        assert "not available" in screen_text(app)
        assert app.return_code is None
