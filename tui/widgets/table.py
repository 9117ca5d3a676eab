"""Table: Textual's DataTable, redrawn once it has measured the rows added since a frame.

DataTable measures new rows' column widths when idle, but lines it drew before that stay
in its render caches, keyed as if nothing changed: a table filled just before a frame (a
screen pushed at start-up, a busy machine) shows every cell cut to its header's width until
something else redraws it (textual issue 4470, open in 8.2.8). Dropping the caches right
after measuring draws the rows at their real widths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class Table(DataTable[Any]):
    """A DataTable whose rows always show at the widths it measured for them."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()   # and refresh: lines drawn before the measuring are stale
