"""A tiny fixed ledger for the workstation's pilot and snapshot tests.

The ledger is built with the clock frozen (freezegun) at 2025-03-10; the app then runs on
the real clock, because Textual's timers need time to pass, while `domain.clock.today` stays
pinned to that date so every command and the default as-of see the same "today".
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from textual.widgets import Input, Select
from textual.worker import WorkerCancelled, WorkerFailed

from domain import clock
from domain.application import BillingLedger
from domain.storage import resolve_store
from projections.queries import BillingQueries
from tests.builders import (
    TODAY,
    open_visit,
    register_patient,
    set_up_practice,
    submitted_claim,
    worked_example_remit,
)
from tui.app import BillingApp


@dataclass
class Desk:
    """What a test needs: the services, and the ids of the fixed accounts."""

    ledger: BillingLedger
    queries: Any
    insured: str       # DOE, JOHN: a claim adjudicated by the primary (worked example)
    encounter_id: str
    line_ids: tuple[str, ...]
    claim_id: str
    self_pay: str      # ROE, JANE: a self-pay visit, the whole balance is the patient's
    waiting: str       # SMITH, ANN: a claim submitted to the primary, no answer yet
    path: Path

    def app(self, **kwargs: Any) -> BillingApp:
        kwargs.setdefault("as_of", TODAY)
        kwargs.setdefault("user", "biller")
        return BillingApp(self.ledger, self.queries, **kwargs)


def build_desk(path: Path) -> Desk:
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="biller",
                               seed=7)
        set_up_practice(ledger)
        insured = register_patient(ledger)
        visit = open_visit(ledger, insured)
        claim_id = submitted_claim(ledger, visit.encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        self_pay = register_patient(ledger, last_name="ROE", first_name="JANE",
                                    birth_date=date(1975, 6, 15), sex="F", coverage=())
        open_visit(ledger, self_pay, charges=("93000",), service_date=date(2024, 10, 1),
                   self_pay=True)
        waiting = register_patient(ledger, last_name="SMITH", first_name="ANN",
                                   birth_date=date(1990, 2, 3), sex="F")
        pending = open_visit(ledger, waiting, service_date=date(2025, 2, 20))
        submitted_claim(ledger, pending.encounter_id, submitted_on=date(2025, 2, 21),
                        batch_id="B2")
    queries = BillingQueries.for_ledger(ledger)
    ledger.after_save.append(queries.catch_up)
    return Desk(ledger, queries, insured, visit.encounter_id, visit.line_ids, claim_id,
                self_pay, waiting, path)


@pytest.fixture
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The fixed desk, built once per session and closed; each test works on a copy."""
    made = build_desk(tmp_path_factory.mktemp("desk") / "ledger.sqlite3")
    made.queries.close()
    made.ledger.close()
    return made


def open_copy(template: Desk, path: Path) -> Desk:
    for suffix in ("", "-wal", "-shm"):
        source = template.path.with_name(template.path.name + suffix)
        if source.exists() and path != template.path:
            shutil.copyfile(source, path.with_name(path.name + suffix))
    ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="biller",
                           seed=11)
    queries = BillingQueries.for_ledger(ledger)
    ledger.after_save.append(queries.catch_up)
    return replace(template, ledger=ledger, queries=queries, path=path)


@pytest.fixture
def desk(tmp_path: Path, pinned_today: date, desk_template: Desk) -> Iterator[Desk]:
    made = open_copy(desk_template, tmp_path / "ledger.sqlite3")
    yield made
    made.queries.close()
    made.ledger.close()


def screen_text(app: BillingApp) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot: Any, quiet: int = 3, deadline: float = 120.0) -> None:
    """Let workers finish and their results reach the screen, however busy the machine.

    Settled means `quiet` pauses in a row (each lets the screen process every pending
    message) found no worker left to finish: a result can start more work (a dialog
    closes, the screen below reloads; a pushed screen mounts, then loads), so one quiet
    look is not proof. A worker that failed or was replaced by a newer one (a keystroke in
    an incremental search) ends waiting on it: the screen reports failures itself. The
    deadline only turns a hang into a failure; nothing here waits for time to pass.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    calm = 0
    while calm < quiet:
        await pilot.pause()
        busy = [worker for worker in pilot.app.workers if not worker.is_finished]
        if not busy:
            calm += 1
            continue
        calm = 0
        left = end - loop.time()
        if left <= 0:
            raise AssertionError(f"workers still running after {deadline} s: {busy}")
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(busy), left)


async def fill(pilot: Any, values: dict[str, str]) -> None:
    """Type into a form's fields by key (selects are set: their overlay is Textual's)."""
    screen = pilot.app.screen
    for name, value in values.items():
        widget = screen.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            widget.value = value
            continue
        assert isinstance(widget, Input)
        widget.focus()
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *value) if value else await pilot.press(
            "ctrl+a", "ctrl+k")
    await pilot.pause()


async def open_account(pilot: Any, account_no: str) -> None:
    """Find an account by its number with `/` and open it."""
    await pilot.press("slash", *account_no)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
