"""Shared fixtures: a BillingLedger on a real SQLite file with "today" frozen to 2025-03-10.

With CLAIMDESK_TEST_STORE=postgres (and CLAIMDESK_TEST_PG_URL), `ledger_factory` puts each
test's ledger in a fresh PostgreSQL database instead; only tests that get their ledger from it
run in that pass, and those that open the SQLite file themselves (`ledger_path`) skip.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import freezegun
import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import TODAY, Practice, set_up_practice

LedgerFactory = Callable[..., BillingLedger]
STORE_ENV = "CLAIMDESK_TEST_STORE"   # "sqlite" (default) or "postgres"

# psycopg_pool's scheduler thread must see real time: under a frozen clock, closing a
# PostgreSQL ledger waits out the pool's 5 s timeout.
freezegun.configure(extend_ignore_list=["psycopg_pool"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, run again only the tests whose ledger the store decides."""
    if os.environ.get(STORE_ENV) != "postgres":
        return
    rerun = [item for item in items if "ledger_url" in getattr(item, "fixturenames", ())]
    if len(rerun) < len(items):
        kept = set(rerun)
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = rerun


@pytest.fixture
def frozen_clock() -> Iterator[FrozenDateTimeFactory]:
    """Pins `domain.clock.today()` (and event timestamps) to TODAY; `.move_to(...)` moves it."""
    with freeze_time(TODAY) as frozen:
        yield frozen


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    if os.environ.get(STORE_ENV) == "postgres":
        pytest.skip("opens the ledger's SQLite file; runs in the SQLite pass")
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def ledger_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLite file `ledger_path`, or a fresh PostgreSQL database dropped afterwards."""
    if os.environ.get(STORE_ENV) != "postgres":
        yield str(request.getfixturevalue("ledger_path"))
        return
    import psycopg

    from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

    url = fresh_pg_database(pg_url_or_skip())
    yield url
    for attempt in range(20):
        try:
            drop_pg_database(url)
            return
        except psycopg.errors.InsufficientPrivilege:
            # An autovacuum worker (a superuser's process) is in the database: a throwaway
            # database may outlive the test, so wait for it briefly rather than fail.
            time.sleep(0.25 * (attempt + 1))


@pytest.fixture
def ledger_factory(
    ledger_url: str, frozen_clock: FrozenDateTimeFactory,
) -> Iterator[LedgerFactory]:
    """`ledger_factory(actor="supervisor")`: another user's ledger on the same store."""
    made: list[BillingLedger] = []

    def make(actor: str = "biller", seed: int | None = None) -> BillingLedger:
        ledger = BillingLedger(env=resolve_store(ledger_url).event_store_env(),
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
