"""PagedTable: a DataTable that holds one page of a long result, never all of it.

A plain DataTable with 100k rows takes seconds to build; here only `page_size` rows are
mounted. Moving past the last row (down, PageDown, End) asks for the next page; past the
first, the previous one. The owner fetches pages in a worker and hands them to `show_page`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from tui.widgets.table import Table

PAGE_SIZE = 200


class PagedTable(Table):
    """One page of rows at a time; posts PageRequested to move between pages."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "next_page", "Next page", tooltip="Next page of rows",
                id="paged.next"),
        Binding("left_square_bracket", "previous_page", "Prev page",
                tooltip="Previous page of rows", id="paged.previous"),
    ]

    @dataclass
    class PageRequested(Message):
        table: PagedTable
        offset: int

    def __init__(self, page_size: int = PAGE_SIZE, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.page_size = page_size
        self.page_offset = 0
        self.total: int | None = None
        self.rows_on_page = 0
        self._land_on_last = False

    def show_page(self, offset: int, rows: list[tuple[Any, ...]], keys: list[str],
                  total: int | None) -> None:
        """Replace the rows with one page; `keys` identify rows for RowSelected."""
        self.clear()
        for key, row in zip(keys, rows, strict=True):
            self.add_row(*row, key=key)
        self.page_offset = offset
        self.total = total
        self.rows_on_page = len(rows)
        if rows:
            self.move_cursor(row=len(rows) - 1 if self._land_on_last else 0)
        self._land_on_last = False

    @property
    def has_next(self) -> bool:
        if self.total is not None:
            return self.page_offset + self.rows_on_page < self.total
        return self.rows_on_page >= self.page_size

    def describe(self) -> str:
        if not self.rows_on_page:
            return "no rows"
        last = self.page_offset + self.rows_on_page
        total = f" of {self.total:,}" if self.total is not None else ""
        return f"rows {self.page_offset + 1:,}-{last:,}{total}"

    def action_next_page(self) -> None:
        if self.has_next:
            self.post_message(self.PageRequested(self, self.page_offset + self.page_size))

    def action_previous_page(self, land_on_last: bool = False) -> None:
        if self.page_offset > 0:
            self._land_on_last = land_on_last
            self.post_message(self.PageRequested(self, max(0, self.page_offset - self.page_size)))

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.rows_on_page - 1:
            self.action_next_page()
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            self.action_previous_page(land_on_last=True)
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.cursor_row >= self.rows_on_page - 1:
            self.action_next_page()
            return
        super().action_page_down()

    def action_scroll_home(self) -> None:
        """Home: the first row of the page."""
        self.move_cursor(row=0)

    def action_scroll_end(self) -> None:
        """End: the last row of the page (down or PageDown from there turns the page)."""
        self.move_cursor(row=max(0, self.rows_on_page - 1))

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.action_previous_page(land_on_last=True)
            return
        super().action_page_up()
