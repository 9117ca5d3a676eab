"""Builds the services a command or the workstation uses, from --db and --as-user."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from domain.application import BillingLedger
from domain.storage import opening, resolve_store


def open_ledger(db: str | None, as_user: str | None) -> BillingLedger:
    store = resolve_store(db)
    with opening(store):   # a ledger that cannot be opened: LedgerUnavailableError
        ledger = BillingLedger(env=store.event_store_env(), as_user=as_user)
    ledger.store = store  # type: ignore[attr-defined]
    return ledger


def open_queries(ledger: BillingLedger, *, catch_up: bool = True,
                 follow_saves: bool = True) -> Any:
    """The read models, caught up now (unless told not to) and, unless told not to, after
    every command this process runs; an 835's events folded while pyx12 checks the file."""
    from projections.queries import BillingQueries, store_for  # noqa: PLC0415

    if catch_up:
        queries = BillingQueries.for_ledger(
            ledger, progress=terminal_progress(sys.stderr) if sys.stderr.isatty() else None)
    else:
        queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    if follow_saves:
        follow(ledger, lambda: queries)
    return queries


def terminal_progress(stream: TextIO, every: float = 0.5,
                      clock: Callable[[], float] = time.monotonic
                      ) -> Callable[[int, int, str], None]:
    """A one-line count of a long rebuild on a terminal (a schema change on a large ledger
    keeps the first command busy for a while), redrawn at most every `every` seconds, then
    saying the indexes are being built, and ended with a newline once the rebuild is done;
    scripts and pipes see nothing of it, nor does a rebuild too short to report a page."""
    shown = [float("-inf")]
    width = [0]   # of the line drawn last: a shorter one is padded over it (no escapes)

    def draw(text: str, end: str = "") -> None:
        stream.write("\r" + text.ljust(width[0]) + end)
        stream.flush()
        width[0] = 0 if end else len(text)

    def show(position: int, head: int, stage: str) -> None:
        if stage != "folding":
            if width[0]:
                draw(f"building the read models: {position:,} events, "
                     + ("indexing them" if stage == "indexing" else "done"),
                     "" if stage == "indexing" else "\n")
            return
        now = clock()
        if position < head and now - shown[0] < every:
            return
        shown[0] = now
        share = 100 * position // head if head else 100
        draw(f"building the read models: {position:,} of {head:,} events ({share}%)")
    return show


def follow(ledger: BillingLedger, queries: Callable[[], Any]) -> None:
    """Keep the read models `queries()` gives level with what `ledger` saves: folded ahead
    while an importer waits for pyx12, caught up after every save."""
    ledger.before_save.append(lambda stored, first: queries().fold_ahead(stored, first))
    ledger.after_save.append(lambda: queries().catch_up())
