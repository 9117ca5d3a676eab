"""Shared fixtures: a BillingLedger on a real SQLite file with "today" frozen to 2025-03-10."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import TODAY, Practice, set_up_practice

LedgerFactory = Callable[..., BillingLedger]


@pytest.fixture
def frozen_clock() -> Iterator[FrozenDateTimeFactory]:
    """Pins `domain.clock.today()` (and event timestamps) to TODAY; `.move_to(...)` moves it."""
    with freeze_time(TODAY) as frozen:
        yield frozen


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def ledger_factory(
    ledger_path: Path, frozen_clock: FrozenDateTimeFactory,
) -> Iterator[LedgerFactory]:
    """`ledger_factory(actor="supervisor")`: another user's ledger on the same SQLite file."""
    made: list[BillingLedger] = []

    def make(actor: str = "biller", seed: int | None = None) -> BillingLedger:
        ledger = BillingLedger(env=resolve_store(str(ledger_path)).event_store_env(),
                               actor=actor, seed=seed)
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()


@pytest.fixture
def ledger(ledger_factory: LedgerFactory) -> BillingLedger:
    """The biller's ledger (actor "biller", seeded ids) on a fresh SQLite file."""
    return ledger_factory(actor="biller", seed=7)


@pytest.fixture
def practice(ledger: BillingLedger) -> Practice:
    """`tests.builders.set_up_practice` on the `ledger` fixture."""
    return set_up_practice(ledger)
