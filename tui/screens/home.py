"""The desk: who is signed in, which ledger, the as-of date and the keys to everything."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from tui.screens.base import BillingScreen

KEYS = """\
[b]/[/b]  find an account (name, DOB, account, claim or member id)
[b]a[/b]  A/R aging dashboard         [b]w[/b]  work queues
[b]i[/b]  import 835 files            [b]h[/b]  history of the current account
[b]g[/b]  go to a date (as of)        [b]n[/b]  register a patient
[b]j[/b]  my worklist
[b]?[/b]  every key of a screen       [b]ctrl+p[/b]  command palette
[b]esc[/b] back                       [b]q[/b]  quit"""


class HomeScreen(BillingScreen):
    """What the biller sees after login."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(KEYS, id="home")
        yield Static("", id="desk-status", classes="status")
        yield Footer()

    def reload(self) -> None:
        self.load_status()

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_status(self) -> None:
        count = self.billing.ledger.events_count()
        self.deliver(self._show_status, count)

    def _show_status(self, count: Any) -> None:
        mode = "read-only (auditor)" if self.billing.read_only else "read-write"
        self.query_one("#desk-status", Static).update(
            f"{count:,} events recorded · {mode} · as of {self.billing.as_of.isoformat()}")
