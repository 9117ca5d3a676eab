"""TurningTable: a paged table whose pages are not row offsets but turns asked of its screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from tui.widgets.paged_table import PagedTable


class TurningTable(PagedTable):
    """A PagedTable whose pages are not row offsets (an account's events by position, its
    visits by the visit): it knows whether there is an earlier and a later page and asks its
    screen for one with `Turn`. The keys are PagedTable's: up or down past the first or last
    row, PageUp/PageDown there, `[` and `]`; Home and End ask for the first and last page
    (`Turn.end`), as they would reach the first and last row of the whole list."""

    @dataclass
    class Turn(Message):
        table: TurningTable
        later: bool
        end: bool = False   # the first (last) page, not the one just before (after)

        @property
        def control(self) -> TurningTable:
            """The table, for `@on(TurningTable.Turn, "#id")`."""
            return self.table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.earlier = self.later = False
        self.caption = ""
        self._to_last = False

    def show_rows(self, rows: list[tuple[Any, ...]], keys: list[str], *, earlier: bool,
                  later: bool, caption: str = "", cursor_last: bool | None = None) -> None:
        """Show one page; the cursor lands on its last row when turned back with up or
        PageUp (or `cursor_last`), else on its first."""
        to_last = self._to_last if cursor_last is None else cursor_last
        self.show_page(0, rows, keys, None)
        self.earlier, self.later, self.caption = earlier, later, caption
        if rows and to_last:
            self.move_cursor(row=len(rows) - 1)
        self._to_last = False

    @property
    def has_next(self) -> bool:
        return self.later

    def describe(self) -> str:
        return self.caption or super().describe()

    def action_next_page(self) -> None:
        if self.later:
            self.post_message(self.Turn(self, later=True))

    def action_previous_page(self, land_on_last: bool = False) -> None:
        if self.earlier:
            self._to_last = land_on_last
            self.post_message(self.Turn(self, later=False))

    def action_scroll_home(self) -> None:
        if self.earlier:
            self.post_message(self.Turn(self, later=False, end=True))
        else:
            super().action_scroll_home()

    def action_scroll_end(self) -> None:
        if self.later:
            self._to_last = True
            self.post_message(self.Turn(self, later=True, end=True))
        else:
            super().action_scroll_end()
