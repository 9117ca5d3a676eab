"""Fixtures for read-model tests: the shared ledger on a SQLite file, and its read models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries


@pytest.fixture
def queries(ledger: BillingLedger) -> Iterator[BillingQueries]:
    """Read models beside the `ledger` fixture's events, caught up after every command."""
    queries = BillingQueries.for_ledger(ledger)
    ledger.after_save.append(queries.catch_up)
    yield queries
    queries.close()
