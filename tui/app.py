"""BillingApp: the keyboard-driven workstation billers reach over SSH.

The app receives its services (the ledger to write, the read queries to read) in
``__init__``; screens call them only inside workers. Fixed keys that scripts and training
material rely on: ``/`` find, ``a`` aging, ``w`` queues, ``i`` import, ``h`` history,
``g`` as-of date, ``?`` keys, ``ctrl+p`` commands, ``escape`` back, ``q`` quit. A user
with the biller role starts on their own worklist (``j``); escape reaches the desk.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from tui.clock import default_as_of
from tui.commands import (
    WRITE_ACTIONS,
    AccountCommands,
    ImportCommands,
    NavigationCommands,
    QueueCommands,
    WorklistCommands,
)
from tui.messages import AsOfChanged

# Roles whose workstation opens on their own worklist (issue 10); escape reaches the desk.
WORKLIST_FIRST = frozenset({"biller"})
NAVIGATION = frozenset({"find", "aging", "queues", "import_files", "history", "go_to_date",
                        "register_patient", "toggle_keys", "back", "quit", "worklist"})


class BillingApp(App[None]):
    """The claimdesk workstation."""

    CSS_PATH = "app.tcss"
    TITLE = "claimdesk"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {
        NavigationCommands, AccountCommands, WorklistCommands, QueueCommands, ImportCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "find", "Find", tooltip="Find an account by name, DOB, account, "
                "claim or member id", id="app.find"),
        Binding("a", "aging", "Aging", tooltip="A/R aging dashboard", id="app.aging"),
        Binding("w", "queues", "Queues", tooltip="Work queues", id="app.queues"),
        Binding("j", "worklist", "My work", tooltip="My worklist: assigned items to work now",
                id="app.worklist", show=False),
        Binding("i", "import_files", "Import", tooltip="Import 835 files", id="app.import"),
        Binding("h", "history", "History", tooltip="Auditor timeline of the current account",
                id="app.history"),
        Binding("g", "go_to_date", "As of", tooltip="Go to a date: every view as of it",
                id="app.go-to-date"),
        Binding("n", "register_patient", "New patient", tooltip="Register a patient",
                id="app.register-patient", show=False),
        Binding("question_mark", "toggle_keys", "Keys", tooltip="Show every key of this screen",
                id="app.keys"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="app.back",
                show=False),
        Binding("q", "quit", "Quit", tooltip="Quit the workstation", id="app.quit"),
    ]

    def __init__(self, ledger: Any, queries: Any, *, read_only: bool = False,
                 as_of: date | None = None, user: str = "") -> None:
        super().__init__()
        self.ledger = ledger
        self.queries = queries
        self.read_only = read_only
        self.as_of: date = as_of or default_as_of()
        self.user = user or str(getattr(ledger, "acting_user", "") or "")
        self.role = role_of(ledger, self.user)
        self.current_account: str | None = None
        # Queue names for the command palette, read once by the home screen.
        self.queue_names: list[str] = []

    # -- shape ------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        from tui.screens.home import HomeScreen  # noqa: PLC0415

        return HomeScreen()

    def on_mount(self) -> None:
        self._update_subtitle()

    def on_ready(self) -> None:
        # Over the desk once it is on screen, so escape goes back to it.
        if self.role in WORKLIST_FIRST:
            self.action_worklist()

    def _update_subtitle(self) -> None:
        mode = " · READ-ONLY" if self.read_only else ""
        who = f"{self.user} · " if self.user else ""
        self.sub_title = f"{who}as of {self.as_of.isoformat()}{mode}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in WRITE_ACTIONS:
            return False
        if action == "back":
            return len(self.screen_stack) > 1
        # While a dialog is open its keys belong to the form, not to the app.
        return not (isinstance(self.screen, ModalScreen) and action in NAVIGATION)

    # -- navigation ---------------------------------------------------------------------------
    def _open(self, screen: Screen[Any]) -> None:
        """Push a screen unless the same view is already on top (a key pressed twice)."""
        same = getattr(self.screen, "same_as", None)
        if callable(same) and same(screen):
            return
        self.push_screen(screen)

    def action_find(self) -> None:
        from tui.screens.find import FindScreen  # noqa: PLC0415

        self._open(FindScreen())

    def action_aging(self) -> None:
        from tui.screens.dashboard import DashboardScreen  # noqa: PLC0415

        self._open(DashboardScreen())

    def action_queues(self) -> None:
        from tui.screens.queues import QueueScreen  # noqa: PLC0415

        self._open(QueueScreen())

    def action_worklist(self) -> None:
        from tui.screens.worklist import WorklistScreen  # noqa: PLC0415

        self._open(WorklistScreen())

    def action_import_files(self) -> None:
        from tui.screens.imports import ImportScreen  # noqa: PLC0415

        self._open(ImportScreen())

    def action_history(self) -> None:
        from tui.screens.history import HistoryScreen  # noqa: PLC0415

        if self.current_account is None:
            self.notify("Open an account first: press / to find one.", title="No account")
            return
        self._open(HistoryScreen(self.current_account))

    def open_account(self, account_no: str) -> None:
        from tui.screens.account import AccountScreen  # noqa: PLC0415

        self.current_account = account_no
        self._open(AccountScreen(account_no))

    def action_open_account(self, account_no: str) -> None:
        self.open_account(account_no)

    def action_open_queue(self, name: str) -> None:
        from tui.screens.queues import QueueScreen  # noqa: PLC0415

        self._open(QueueScreen(name))

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_go_to_date(self) -> None:
        from tui.dialogs.as_of import GoToDateDialog  # noqa: PLC0415

        self.push_screen(GoToDateDialog(self.as_of), self.set_as_of)

    def set_as_of(self, as_of: date | None) -> None:
        if as_of is None or as_of == self.as_of:
            return
        self.as_of = as_of
        self._update_subtitle()
        self.screen.post_message(AsOfChanged(as_of))
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    def action_register_patient(self) -> None:
        from tui.dialogs.registration import RegisterPatientDialog  # noqa: PLC0415

        def opened(account_no: str | None) -> None:
            if account_no:
                self.notify(f"Registered account {account_no}", title="Recorded", markup=False)
                self.open_account(account_no)

        self.push_screen(RegisterPatientDialog(), opened)


def role_of(ledger: Any, user: str) -> str | None:
    """The user's role in the ledger's user directory; None for no directory or no such user.

    Read once, as the workstation starts (the directory is a small, cached aggregate).
    """
    users = getattr(ledger, "users", None)
    if not callable(users):
        return None
    for row in users():
        if row["name"] == user and not row.get("disabled"):
            return str(row["role"])
    return None
