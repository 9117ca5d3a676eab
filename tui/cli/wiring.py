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


def open_queries(ledger: BillingLedger) -> Any:
    """The read models, caught up now and after every command this process runs."""
    from projections.queries import BillingQueries  # noqa: PLC0415

    queries = BillingQueries.for_ledger(ledger)
    ledger.after_save.append(queries.catch_up)
    return queries
