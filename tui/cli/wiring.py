"""Builds the services a command or the workstation uses, from --db and --as-user."""

from __future__ import annotations

from typing import Any

from domain.application import BillingLedger
from domain.storage import resolve_store


def open_ledger(db: str | None, as_user: str | None) -> BillingLedger:
    store = resolve_store(db)
    ledger = BillingLedger(env=store.event_store_env(), as_user=as_user)
    ledger.store = store  # type: ignore[attr-defined]
    return ledger


def open_queries(ledger: BillingLedger, *, catch_up: bool = True) -> Any:
    """The read models, caught up now (unless told not to) and after every command this
    process runs; an 835's events are folded while pyx12 checks the file."""
    from projections.queries import BillingQueries, store_for  # noqa: PLC0415

    if catch_up:
        queries = BillingQueries.for_ledger(ledger)
    else:
        queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    ledger.after_save.append(queries.catch_up)
    ledger.before_save.append(queries.fold_ahead)
    return queries
