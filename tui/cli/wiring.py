"""Builds the services a command or the workstation uses, from --db and --as-user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.application import BillingLedger
from domain.storage import resolve_store


def open_ledger(db: str | None, as_user: str | None) -> BillingLedger:
    store = resolve_store(db)
    ledger = BillingLedger(env=store.event_store_env(), as_user=as_user)
    ledger.store = store  # type: ignore[attr-defined]
    return ledger


def open_queries(ledger: BillingLedger, *, catch_up: bool = True,
                 follow_saves: bool = True) -> Any:
    """The read models, caught up now (unless told not to) and, unless told not to, after
    every command this process runs; an 835's events folded while pyx12 checks the file."""
    from projections.queries import BillingQueries, store_for  # noqa: PLC0415

    if catch_up:
        queries = BillingQueries.for_ledger(ledger)
    else:
        queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    if follow_saves:
        follow(ledger, lambda: queries)
    return queries


def follow(ledger: BillingLedger, queries: Callable[[], Any]) -> None:
    """Keep the read models `queries()` gives level with what `ledger` saves: folded ahead
    while an importer waits for pyx12, caught up after every save."""
    ledger.before_save.append(lambda stored, first: queries().fold_ahead(stored, first))
    ledger.after_save.append(lambda: queries().catch_up())
