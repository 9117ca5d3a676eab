"""Work queues on a PostgreSQL database whose collation is not code-point order.

Its text sorts ("a7" before "B7" in en-US) must not leak into a queue: a page read in SQL,
the same queue read in Python (as when a search or filter is set) and the SQLite store all
order text by code point, so a screen does not reorder when a search is typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from freezegun import freeze_time
from psycopg import sql

from domain.application import BillingLedger
from domain.storage import resolve_store
from projections.queries import BillingQueries
from projections.store import PostgresProjectionStore, SQLiteProjectionStore
from projections.worklist import WorkQueues
from tests.builders import PRIMARY, TODAY, open_visit, register_patient, set_up_practice
from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip
from tests.projections.test_queue_pages import assert_pages_make_the_whole

pytestmark = pytest.mark.postgres

# (how to ask for it, what it is): an ICU en-US database, else glibc's en_US.UTF-8.
LOCALES = (
    (sql.SQL("LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"), "ICU en-US"),
    (sql.SQL("LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'"), "en_US.UTF-8"),
)


@pytest.fixture
def locale_url() -> Iterator[str]:
    """A fresh database sorting text by a language's rules, where the server has one."""
    server = pg_url_or_skip()
    owner = urlsplit(server).username or "claimdesk"
    url = fresh_pg_database(server)   # only for a unique name; made again below
    drop_pg_database(url)
    name = urlsplit(url).path.lstrip("/")
    for clause, _ in LOCALES:
        try:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL(
                    "CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8' {}").format(
                        sql.Identifier(name), sql.Identifier(owner), clause))
            break
        except psycopg.Error:
            continue
    else:
        pytest.skip("the server has no en-US collation (ICU or glibc)")
    yield url
    drop_pg_database(url)


@pytest.fixture
def queries(locale_url: str) -> Iterator[BillingQueries]:
    """Accounts a7 and B7, each with an unbilled visit and a claim ready to send."""
    with psycopg.connect(locale_url) as conn:   # else the test below proves nothing
        assert conn.execute("SELECT 'a7' < 'B7'").fetchone() == (True,)
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(locale_url).event_store_env(),
                               actor="biller", seed=7)
        queries = BillingQueries.for_ledger(ledger)
        try:
            set_up_practice(ledger)
            for account_no in ("a7", "B7", "b7", "A7"):
                register_patient(ledger, account_no=account_no, coverage=(PRIMARY,))
                open_visit(ledger, account_no, charges=["99213", "36415"])
                ready = open_visit(ledger, account_no, charges=["99214"])
                ledger.scrub_claim(ledger.create_claim(ready.encounter_id))
            queries.catch_up()
            yield queries
        finally:
            queries.close()
            ledger.close()


def test_text_sorts_page_in_code_point_order(queries: BillingQueries) -> None:
    with freeze_time(TODAY):
        for name in ("unbilled", "ready"):
            for descending in (False, True):
                paged = queries.queue(name, sort="account_no", descending=descending)
                # A filter keeping every row reads the queue in Python instead.
                python = queries.queue(name, sort="account_no", descending=descending,
                                       filter={"payer_id": PRIMARY})
                assert python["items"] == paged["items"]
                order = list(dict.fromkeys(r["account_no"] for r in paged["items"]))
                assert order == sorted(["a7", "B7", "b7", "A7"], reverse=descending)


def test_the_account_list_sorts_by_code_point_too(queries: BillingQueries) -> None:
    listed = [a["account_no"] for a in queries.accounts()
              if a["account_no"] in ("a7", "B7", "b7", "A7")]
    names = {a["name"] for a in queries.accounts()}
    assert len(names) == 1   # one name for all four: the order is the account numbers'
    assert listed == ["A7", "B7", "a7", "b7"]
    assert [a["account_no"] for a in queries.accounts(limit=2, offset=1)] == ["B7", "a7"]


def test_every_sort_pages_as_the_full_sort_orders(queries: BillingQueries) -> None:
    with freeze_time(TODAY):
        for name, sorts in (
                ("unbilled", ("account_no", "code", "payer_id", "plan_id", "encounter_id",
                              "line_id", "service_date", "amount_cents", "-age_days")),
                ("ready", ("account_no", "claim_id", "state", "payer_id", "encounter_id",
                           "coverage_order", "frequency", "service_date", "ready_on",
                           "amount_cents", "age_days"))):
            for sort in sorts:
                for descending in (False, True):
                    assert_pages_make_the_whole(queries, name, sort=sort,
                                                descending=descending)


def test_only_postgres_text_sort_terms_carry_collate_c() -> None:
    """The SQL itself, server or none: COLLATE "C" after PostgreSQL's text terms only."""
    unbilled = WorkQueues._unbilled_sql(None, TODAY)  # type: ignore[arg-type]
    pg, lite = PostgresProjectionStore.by_code_point, SQLiteProjectionStore.by_code_point
    assert unbilled.order_by("account_no", False, pg) == (
        '(q.account_no IS NULL), q.account_no COLLATE "C", '
        'q.line_id COLLATE "C", q.payer_id COLLATE "C"')
    assert unbilled.order_by("amount_cents", True, pg) == (
        '(q.amount_cents IS NULL) DESC, q.amount_cents DESC, '
        'q.line_id COLLATE "C", q.payer_id COLLATE "C"')
    assert unbilled.order_by("account_no", False, lite) == (
        "(q.account_no IS NULL), q.account_no, q.line_id, q.payer_id")
