"""`w`: the work queues, one page of rows at a time so 100k rows open at once."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Select, Static

from tui.formatting import day, ellipsize, usd
from tui.screens.base import BillingScreen
from tui.screens.shapes import as_dict, first, rows_of, total_of
from tui.widgets.literal import escape
from tui.widgets.paged_table import PAGE_SIZE, PagedTable

HIDDEN = {"details", "buckets", "coverage", "postings", "open_denials"}
MAX_COLUMNS = 8


def cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name.endswith("_cents"):
        return usd(value)
    if name.endswith(("_on", "_date")):
        return day(value)
    if isinstance(value, list | tuple):
        return ellipsize(", ".join(map(str, value)), 24)
    return ellipsize(value, 28)


def heading(name: str) -> str:
    return name.removesuffix("_cents").replace("_", " ").title()


class QueueScreen(BillingScreen):
    """Pick a queue, filter it, sort it, page through it; Enter opens the row's account."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "filter", "Filter", tooltip="Filter the queue by text", id="queue.filter"),
        Binding("s", "sort", "Sort", tooltip="Sort by the next column", id="queue.sort"),
        Binding("o", "reverse", "Order", tooltip="Ascending / descending", id="queue.order"),
        Binding("c", "choose_queue", "Queue", tooltip="Choose another queue", id="queue.choose"),
        Binding("r", "refresh", "Refresh", tooltip="Read the queue again", id="queue.refresh"),
    ]

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.queue_name = name
        self.columns: list[str] = []
        self.sort_by: str | None = None
        self.descending = False
        self.text_filter = ""
        self.rows: dict[str, dict[str, Any]] = {}
        self.requested: str | None = None   # the queue whose first page is being read

    def same_as(self, other: Screen[Any]) -> bool:
        return isinstance(other, QueueScreen) and (
            other.queue_name is None or other.queue_name == self.queue_name)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="queue-bar"):
            yield Select([], id="queue-name", compact=True, prompt="queue")
            yield Input(placeholder="filter (f)", id="queue-filter", compact=True)
        yield PagedTable(page_size=PAGE_SIZE, id="queue-table")
        yield Static("", id="queue-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.load_names()

    def reload(self) -> None:
        if self.queue_name:
            self.requested = self.queue_name
            self.load_page(0)

    # -- reading -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="queue-names", exit_on_error=False)
    def load_names(self) -> None:
        queries = self.billing.queries
        if not hasattr(queries, "queue_names"):
            # The queue read models land with the projections issue.
            self.app.call_from_thread(
                self.query_one("#queue-status", Static).update,
                "Work queues are not available in this ledger's read models yet.")
            return
        titled = getattr(queries, "queue_titles", None)
        names = titled() if callable(titled) else queries.queue_names()
        self.deliver(self._show_names, names)

    def _show_names(self, names: Any) -> None:
        options = []
        for item in names:
            row = as_dict(item) if not isinstance(item, str) else {"name": item}
            name = str(first(row, "name", "queue"))
            label = str(first(row, "title", "label", default=name))
            count = first(row, "count", "rows", default=None)
            shown = f"{label} ({count:,})" if isinstance(count, int) else label
            options.append((escape(shown), name))   # a Select reads its labels as markup
        select = self.query_one("#queue-name", Select)
        select.set_options(options)
        self.billing.queue_names = [value for _, value in options]
        if options:
            wanted = self.queue_name if self.queue_name in {v for _, v in options} else None
            self.queue_name = wanted or options[0][1]
            with self.prevent(Select.Changed):
                select.value = self.queue_name
            # Opened on a named queue, the screen's first resume asked for its page already:
            # a second read of the same page would only wait behind the first.
            if self.requested != self.queue_name:
                self.load_page(0)
            self.requested = None
            self.query_one(PagedTable).focus()

    @work(thread=True, exclusive=True, group="queue-page", exit_on_error=False)
    def load_page(self, offset: int) -> None:
        queries = self.billing.queries
        name = self.queue_name
        kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "offset": offset}
        accepted = inspect.signature(queries.queue).parameters
        optional = {"as_of": self.billing.as_of, "search": self.text_filter or None,
                    "sort": self.sort_by, "descending": self.descending}
        kwargs.update({k: v for k, v in optional.items() if k in accepted})
        answer = queries.queue(name, **kwargs)
        self.deliver(self._show_page, name, offset, answer)

    def _show_page(self, name: str, offset: int, answer: Any) -> None:
        if name != self.queue_name:
            return
        rows = rows_of(answer)
        table = self.query_one(PagedTable)
        if rows and not self.columns:
            self.columns = [k for k, v in rows[0].items()
                            if k not in HIDDEN and not isinstance(v, dict)][:MAX_COLUMNS]
            table.clear(columns=True)
            table.add_columns(*(heading(c) for c in self.columns))
        keys = []
        self.rows = {}
        for index, row in enumerate(rows):
            key = f"{offset + index}"
            keys.append(key)
            self.rows[key] = row
        table.show_page(offset, [tuple(cell(c, row.get(c)) for c in self.columns)
                                 for row in rows], keys, total_of(answer))
        order = f" · sorted by {heading(self.sort_by)}" if self.sort_by else ""
        order += " ↓" if self.sort_by and self.descending else ""
        self.query_one("#queue-status", Static).update(
            f"{escape(name)}: {table.describe()}{order} · ] next page · [ previous · Enter opens")

    # -- acting ------------------------------------------------------------------------------
    @on(Select.Changed, "#queue-name")
    def _queue_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or event.value == self.queue_name:
            return
        self.queue_name = str(event.value)
        self.columns = []
        self.sort_by = None
        self.load_page(0)

    @on(PagedTable.PageRequested)
    def _page(self, event: PagedTable.PageRequested) -> None:
        self.load_page(event.offset)

    @on(Input.Submitted, "#queue-filter")
    def _filtered(self, event: Input.Submitted) -> None:
        self.text_filter = event.value.strip()
        self.load_page(0)
        self.query_one(PagedTable).focus()

    @on(PagedTable.RowSelected)
    def _row_chosen(self, event: PagedTable.RowSelected) -> None:
        row = self.rows.get(str(event.row_key.value), {})
        account_no = first(row, "account_no", "guarantor_account_no", default=None)
        if account_no:
            self.billing.open_account(str(account_no))

    def action_filter(self) -> None:
        self.query_one("#queue-filter", Input).focus()

    def action_choose_queue(self) -> None:
        select = self.query_one("#queue-name", Select)
        select.focus()
        select.action_show_overlay()

    def action_sort(self) -> None:
        if not self.columns:
            return
        index = self.columns.index(self.sort_by) + 1 if self.sort_by in self.columns else 0
        self.sort_by = self.columns[index % len(self.columns)]
        self.load_page(0)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.load_page(0)

    def action_refresh(self) -> None:
        self.load_page(0)
