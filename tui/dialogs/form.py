"""FormDialog: a modal form that parses its fields, then runs one ledger command in a worker.

Typing mistakes (a date that is not a date, an amount with sub-cents) are caught while
parsing, next to the form. Everything else is the domain's to decide: the command runs in a
worker and, when refused, its message is shown in the form, which stays open to be fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker

from domain.clock import read_date
from domain.errors import BillingError
from domain.money import AmountError, cents_from_text
from tui.clock import default_as_of
from tui.screens.base import BillingModal

# A date field's default that means "the office's today".
TODAY = "today"


@dataclass
class Field:
    """One input of a form; `kind` says how its text is parsed."""

    name: str
    label: str
    kind: str = "text"  # text | date | money | int | choice | list | ints
    default: str = ""
    required: bool = True
    choices: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (shown, value)
    placeholder: str = ""


class FormError(Exception):
    """A field's text could not be read; the message names the field."""


def parse_field(spec: Field, raw: str) -> Any:
    """The value of a field's text, or FormError."""
    text = raw.strip()
    if not text:
        if spec.required:
            raise FormError(f"{spec.label}: required")
        return None
    if spec.kind == "date":
        try:
            return read_date(text)
        except ValueError as error:
            raise FormError(f"{spec.label}: {error}") from None
    if spec.kind == "money":
        try:
            return int(cents_from_text(text.replace("$", "").replace(",", "")))
        except AmountError as error:
            raise FormError(f"{spec.label}: {error}") from None
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise FormError(f"{spec.label}: {text!r} is not a whole number") from None
    if spec.kind == "list":
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if spec.kind == "ints":
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise FormError(f"{spec.label}: give numbers separated by commas") from None
    return text


class FormDialog(BillingModal[Any]):
    """Subclasses set TITLE_TEXT and FIELDS and implement `perform` (runs in a thread)."""

    TITLE_TEXT: ClassVar[str] = ""
    HINT: ClassVar[str] = ""
    FIELDS: ClassVar[list[Field]] = []
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without recording", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", tooltip="Record it", id="form.submit"),
    ]

    def __init__(self, *, defaults: dict[str, str] | None = None,
                 choices: dict[str, Sequence[tuple[str, str]]] | None = None,
                 context: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.defaults = defaults or {}
        self.choices = choices or {}
        self.context = context or {}

    def fields(self) -> list[Field]:
        return list(self.FIELDS)

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(self.TITLE_TEXT, classes="title")
            with VerticalScroll(id="fields"):
                for spec in self.fields():
                    with Horizontal(classes="row"):
                        yield Label(spec.label + ("" if spec.required else " (opt)"))
                        default = self.defaults.get(spec.name, spec.default)
                        if default == TODAY:
                            default = default_as_of().isoformat()
                        if spec.kind == "choice":
                            options = list(self.choices.get(spec.name, spec.choices))
                            values = {value for _, value in options}
                            yield Select(options, id=f"f-{spec.name}", compact=True,
                                         allow_blank=not options or not spec.required,
                                         value=default if default in values else
                                         (options[0][1] if options and spec.required
                                          else Select.NULL))
                        else:
                            yield Input(default, id=f"f-{spec.name}", compact=True,
                                        placeholder=spec.placeholder or _placeholder(spec))
            yield Static(self.HINT, id="hint")
            yield Static("", id="error", markup=False)   # messages quote what was typed
            with Horizontal(id="buttons"):
                yield Button("Save ^s", id="save", variant="primary", compact=True)
                yield Button("Cancel esc", id="cancel", compact=True)

    def values(self) -> dict[str, Any]:
        """Every field parsed; raises FormError for the first one that does not parse."""
        result: dict[str, Any] = {}
        for spec in self.fields():
            widget = self.query_one(f"#f-{spec.name}")
            if isinstance(widget, Select):
                value = widget.value
                if value is Select.NULL or value is None:
                    if spec.required:
                        raise FormError(f"{spec.label}: choose one")
                    value = None
                result[spec.name] = value
            else:
                assert isinstance(widget, Input)
                result[spec.name] = parse_field(spec, widget.value)
        return result

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    # -- submitting ----------------------------------------------------------------------------
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self.billing.read_only:
            self.show_error("Read-only workstation: nothing can be recorded here.")
            return
        try:
            values = self.values()
        except FormError as error:
            self.show_error(str(error))
            return
        self.show_error("")
        self.run_command(values)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    @work(thread=True, exclusive=True, group="ledger-write", exit_on_error=False)
    def run_command(self, values: dict[str, Any]) -> None:
        result = self.perform(values)
        self.app.call_from_thread(self.dismiss, result if result is not None else True)

    def perform(self, values: dict[str, Any]) -> Any:
        """Run the command on `self.billing.ledger`; return what the caller should get."""
        raise NotImplementedError

    def refused(self, worker: Worker[Any], error: BillingError) -> None:
        self.show_error(f"{error.title}: {error}")


def _placeholder(spec: Field) -> str:
    return {"date": "YYYY-MM-DD", "money": "0.00", "list": "a, b, c",
            "ints": "1, 2"}.get(spec.kind, "")
