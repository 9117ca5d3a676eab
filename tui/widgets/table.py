"""Table: Textual's DataTable, redrawn once it has measured the rows added since a frame.

DataTable measures new rows' column widths when idle, but lines it drew before that stay
in its render caches, keyed as if nothing changed: a table filled just before a frame (a
screen pushed at start-up, a busy machine) shows every cell cut to its header's width until
something else redraws it (textual issue 4470, open in 8.2.8). Dropping the caches right
after measuring draws the rows at their real widths.

A DataTable also reads every string cell as markup; here a cell is always shown literally
(tui/widgets/literal.py), whatever name or reason the ledger holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text, TextType
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.widgets.literal import literal


class Table(DataTable[Any]):
    """A DataTable whose rows always show at the widths it measured for them, and whose text
    cells are never read as markup."""

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None,
                label: TextType | None = None) -> RowKey:
        return super().add_row(*(c if isinstance(c, Text) else literal(c) for c in cells),
                               height=height, key=key, label=label)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()   # and refresh: lines drawn before the measuring are stale
