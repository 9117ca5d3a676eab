"""`/`: find an account as you type: by name, account number, birth date (YYYY-MM-DD or
MM/DD/YYYY) or member id (the read model's search), or by claim id (the claim knows its
account)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from domain.errors import BillingError
from tui.formatting import mask_date, usd
from tui.screens.base import BillingScreen
from tui.screens.shapes import first, rows_of
from tui.widgets.literal import escape
from tui.widgets.table import Table

LIMIT = 50
CLAIM_ID = re.compile(r"[A-Z0-9]{6,17}")


class FindScreen(BillingScreen):
    """Incremental search: every keystroke asks the read model again (in a worker)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "to_results", "Results", tooltip="Move into the results", show=False,
                id="find.results"),
        Binding("ctrl+r", "reveal", "Reveal DOB", tooltip="Show or hide full birth dates",
                id="find.reveal"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.revealed = False
        self.found: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="name, DOB (YYYY-MM-DD), account, claim or member id",
                    id="search", compact=True)
        yield Table(id="results", cursor_type="row", zebra_stripes=True)
        yield Static("Type to search · Enter opens the account", id="find-status",
                     classes="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        table.add_columns("Account", "Name", "Born", "Guarantor", "Balance")
        self.query_one("#search", Input).focus()

    def reload(self) -> None:
        self.search(self.query_one("#search", Input).value)

    @on(Input.Changed, "#search")
    def _changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#search")
    def _submitted(self) -> None:
        if self.found:
            self.billing.open_account(str(first(self.found[0], "account_no")))

    @work(thread=True, exclusive=True, group="find", exit_on_error=False)
    def search(self, text: str) -> None:
        queries = self.billing.queries
        rows = rows_of(queries.accounts(text.strip(), limit=LIMIT, offset=0))
        if not rows and CLAIM_ID.fullmatch(text.strip().upper()):
            # Not a name or account number: perhaps a claim id, which knows its account.
            try:
                account_no = self.billing.ledger.claim(text.strip().upper()).account_no
            except BillingError:
                account_no = None
            if account_no:
                rows = rows_of(queries.accounts(account_no, limit=1, offset=0))
        self.deliver(self._show, text, rows)

    def _show(self, text: str, rows: list[dict[str, Any]]) -> None:
        self.found = rows
        table = self.query_one("#results", DataTable)
        table.clear()
        for row in rows:
            account_no = str(first(row, "account_no"))
            table.add_row(
                account_no, first(row, "name", "display_name"),
                mask_date(first(row, "birth_date"), self.revealed),
                first(row, "guarantor_account_no"),
                usd(first(row, "balance_cents", default=None)), key=account_no)
        more = "+" if len(rows) >= LIMIT else ""
        what = f" for {escape(repr(text.strip()))}" if text.strip() else ""
        self.query_one("#find-status", Static).update(
            f"{len(rows)}{more} accounts{what} · Enter opens · ctrl+r reveals DOB")

    @on(DataTable.RowSelected, "#results")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.billing.open_account(str(event.row_key.value))

    def action_to_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self._show(self.query_one("#search", Input).value, self.found)
