"""`g`: go to a date. Every view then shows the books as they stood on it."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from domain.clock import read_date
from tui.clock import default_as_of


class GoToDateDialog(ModalScreen[date | None]):
    """Ask for an as-of date; `t` or an empty answer means today."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Keep the current date", id="as-of.cancel"),
    ]

    def __init__(self, current: date) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label("Go to date (as of)", classes="title")
            yield Static("YYYY-MM-DD, or empty for today. Enter to go, Esc to cancel.",
                         classes="muted")
            yield Input(self.current.isoformat(), id="as-of", compact=True,
                        placeholder="YYYY-MM-DD")
            yield Static("", id="error", markup=False)   # messages quote what was typed

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or text.lower() in {"t", "today"}:
            self.dismiss(default_as_of())
            return
        error = self.query_one("#error", Static)
        try:
            day = read_date(text)
        except ValueError as problem:
            error.update(str(problem))
            return
        self.dismiss(day)

    def action_cancel(self) -> None:
        self.dismiss(None)
