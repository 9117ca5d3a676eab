"""The desk: who is signed in, which ledger, the as-of date and the keys to everything.

A biller's day starts at their own worklist (issue 10): when the signed-in user has the
biller role, the worklist opens over the desk at start-up; escape comes back here.
"""

from __future__ import annotations

from typing import Any, ClassVar

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

    # Roles whose workstation opens on their worklist rather than on this desk.
    WORKLIST_FIRST: ClassVar[frozenset[str]] = frozenset({"biller"})

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(KEYS, id="home")
        yield Static("", id="desk-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.open_worklist_for_billers()

    def reload(self) -> None:
        self.load_status()

    @work(thread=True, exclusive=True, group="home-start", exit_on_error=False)
    def open_worklist_for_billers(self) -> None:
        users = getattr(self.billing.ledger, "users", None)
        roles = ({u["name"]: u["role"] for u in users() if not u.get("disabled")}
                 if callable(users) else {})
        if roles.get(self.billing.user) in self.WORKLIST_FIRST:
            self.app.call_from_thread(self._open_worklist)

    def _open_worklist(self) -> None:
        # Only while the desk is still what the user sees: a key pressed meanwhile wins.
        if self.app.screen is self:
            self.billing.action_worklist()

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_status(self) -> None:
        count = self.billing.ledger.events_count()
        self.app.call_from_thread(self._show_status, count)

    def _show_status(self, count: Any) -> None:
        mode = "read-only (auditor)" if self.billing.read_only else "read-write"
        self.query_one("#desk-status", Static).update(
            f"{count:,} events recorded · {mode} · as of {self.billing.as_of.isoformat()}")
