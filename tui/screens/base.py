"""BillingScreen: the one place a worker's failure becomes a message for the biller.

`Worker.StateChanged` does not bubble, so each screen (and each dialog, through the same
mixin) handles its own workers' failures here: a refused command (`BillingError`) is shown
with the domain's title and message; anything else is a bug, so the app exits with it
rather than leave a screen silently half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState, get_current_worker

from domain.errors import BillingError
from domain.text import written_out

if TYPE_CHECKING:
    from tui.app import BillingApp

ResultType = TypeVar("ResultType")


class WorkerErrors:
    """Turns worker failures into notifications (BillingError) or an exit (anything else).

    Textual registers `@on` handlers only on message-pump classes, so the two bases below
    each carry the decorated handler and delegate here.
    """

    def handle_worker_state(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, BillingError):
            # The message may quote what was typed or read from a file: shown as is, not as markup.
            self.notify(  # type: ignore[attr-defined]
                written_out(error), title=error.title, severity="error", markup=False)
            self.refused(event.worker, error)
        else:
            self.app.exit(  # type: ignore[attr-defined]
                return_code=1,  # a Text: the error may quote a name, printed not parsed
                message=Text(written_out(f"claimdesk stopped: {type(error).__name__}: {error}")))

    def refused(self, worker: Worker[Any], error: BillingError) -> None:
        """Hook: a command was refused (dialogs show the message next to the form)."""


class BillingScreen(WorkerErrors, Screen[None]):
    """A full screen of the workstation."""

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.handle_worker_state(event)

    @property
    def billing(self) -> BillingApp:
        from tui.app import BillingApp  # noqa: PLC0415 - avoids an import cycle

        assert isinstance(self.app, BillingApp)
        return self.app

    def deliver(self, show: Callable[..., None], *args: Any) -> None:
        """From a worker thread: run `show(*args)` on the UI thread, unless a newer worker of
        the same exclusive group replaced this one meanwhile.

        Cancelling a thread worker does not stop its thread: a search for "ro" can finish
        after the one for "roe" and would put its stale rows over the newer ones. Whether
        it was replaced is checked again on the UI thread, where replacing happens.
        """
        worker = get_current_worker()

        def if_current() -> None:
            if not worker.is_cancelled:
                show(*args)

        if not worker.is_cancelled:
            self.app.call_from_thread(if_current)

    def same_as(self, other: Screen[Any]) -> bool:
        """Whether `other` would show what this screen shows (then it is not pushed again)."""
        return type(self) is type(other)

    def reload(self) -> None:
        """Re-read whatever the screen shows (after `g`, or a command recorded)."""

    def on_screen_resume(self) -> None:
        self.reload()


class BillingModal(WorkerErrors, ModalScreen[ResultType]):
    """A modal that may run a ledger command in a worker."""

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.handle_worker_state(event)

    @property
    def billing(self) -> BillingApp:
        from tui.app import BillingApp  # noqa: PLC0415

        assert isinstance(self.app, BillingApp)
        return self.app
