"""Application servers starting at the same moment on one PostgreSQL all start.

Each creates eventsourcing's tables if missing; done concurrently, PostgreSQL's catalog
refuses all but one ("duplicate key ... pg_type_typname_nsp_index", "tuple concurrently
updated"). Before the ledger retried that, about one start in four of four servers failed.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

pytestmark = pytest.mark.postgres

SERVERS, TRIALS = 4, 4


def _start(url: str, start: Any, answers: Any) -> None:
    from domain.application import BillingLedger
    from domain.storage import resolve_store

    start.wait()
    try:
        BillingLedger(env=resolve_store(url).event_store_env(), actor="app-server").close()
        answers.put("started")
    except Exception as error:   # the test reports what stopped it
        answers.put(f"{type(error).__name__}: {error}")


def test_servers_starting_together_on_a_new_database_all_start() -> None:
    server = pg_url_or_skip()
    context = multiprocessing.get_context("spawn")
    for _ in range(TRIALS):
        url = fresh_pg_database(server)
        try:
            start, answers = context.Event(), context.Queue()
            servers = [context.Process(target=_start, args=(url, start, answers))
                       for _ in range(SERVERS)]
            for process in servers:
                process.start()
            start.set()
            for process in servers:
                process.join(timeout=120)
            assert [answers.get(timeout=5) for _ in servers] == ["started"] * SERVERS
        finally:
            drop_pg_database(url)
