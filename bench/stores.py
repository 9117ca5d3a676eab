"""Where a benchmark ledger lives: a fresh SQLite file or a fresh PostgreSQL database.

Also the anchors that need the store itself: appending the same stored-event rows with a
plain `executemany` into a table shaped like the event table, and reading the event table
back with a plain cursor and `json.loads`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from domain.application import BillingLedger
from domain.storage import resolve_store

EVENT_COLUMNS = "originator_id, originator_version, topic, state"
ANCHOR_TABLE = "bench_anchor_events"


@dataclass
class Target:
    """One benchmark ledger: `url` is a SQLite path or a postgresql:// URL."""

    kind: str            # "sqlite" | "postgres"
    url: str
    label: str

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def open_ledger(self, actor: str = "bench", *, cached: bool = False) -> BillingLedger:
        """A ledger as `claimdesk` opens it (tui/cli/wiring.py): env from the store.

        `cached`: with eventsourcing's aggregate cache, for preparing a benchmark (never for
        measuring one), so what is read per claim (payer, contract, providers, the claim
        itself in each of plan, record and adjudicate) is replayed once. Without deep copies:
        the preparation changes aggregates only through the ledger's commands, which save them.
        """
        store = resolve_store(self.url)
        env = store.event_store_env()
        if cached:
            env["AGGREGATE_CACHE_MAXSIZE"] = "200000"
            env["DEEPCOPY_FROM_AGGREGATE_CACHE"] = "n"
        ledger = BillingLedger(env=env, actor=actor)
        ledger.store = store  # type: ignore[attr-defined]
        return ledger


def sqlite_target(directory: Path, name: str, label: str = "SQLite") -> Target:
    path = directory / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Target("sqlite", str(path), label)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def postgres_target(server_url: str, label: str = "PostgreSQL") -> Target:
    """A new, empty database on the server of `server_url` (dropped by `drop_target`)."""
    import psycopg
    from psycopg import sql

    name = f"claimdesk_bench_{uuid.uuid4().hex[:8]}"
    owner = urlsplit(server_url).username or "claimdesk"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(owner)))
    return Target("postgres", _with_database(server_url, name), label)


def drop_target(target: Target) -> None:
    if target.is_postgres:
        import psycopg
        from psycopg import sql

        name = urlsplit(target.url).path.lstrip("/")
        for attempt in range(20):
            try:
                with psycopg.connect(_with_database(target.url, "postgres"),
                                     autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)))
                return
            except psycopg.errors.InsufficientPrivilege:
                # An autovacuum worker (a superuser's) is still in the database: wait for it.
                time.sleep(0.25 * (attempt + 1))
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target.url}{suffix}").unlink(missing_ok=True)


def events_table(ledger: BillingLedger) -> tuple[str, str]:
    """(schema, table) of the ledger's stored events; schema "" for SQLite."""
    recorder: Any = ledger.recorder
    schema = getattr(getattr(recorder, "datastore", None), "schema", "") or ""
    return schema, str(recorder.events_table_name)


def stored_rows(ledger: BillingLedger, start: int, count: int,
                postgres: bool) -> list[tuple[Any, ...]]:
    """Stored events start..start+count-1 exactly as the recorder holds them."""
    rows: list[tuple[Any, ...]] = []
    position = start
    while len(rows) < count:
        page = ledger.recorder.select_notifications(
            start=position, limit=min(1000, count - len(rows)))
        if not page:
            break
        rows.extend((n.originator_id if postgres else n.originator_id.hex,
                     n.originator_version, n.topic, n.state) for n in page)
        position = page[-1].id + 1
    return rows


class RawAppender:
    """The append anchor: `executemany` of the same rows, one transaction per ledger save."""

    def __init__(self, target: Target, ledger: BillingLedger, directory: Path) -> None:
        self.target = target
        self.rows = 0
        self.seconds = 0.0
        schema, table = events_table(ledger)
        if target.is_postgres:
            import psycopg

            self.conn: Any = psycopg.connect(target.url)
            qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
            with self.conn.transaction():
                self.conn.execute(f"DROP TABLE IF EXISTS {ANCHOR_TABLE}")
                self.conn.execute(
                    f"CREATE TABLE {ANCHOR_TABLE} (LIKE {qualified} INCLUDING ALL)")
            self.insert = (f"INSERT INTO {ANCHOR_TABLE} ({EVENT_COLUMNS}) "
                           "VALUES (%s, %s, %s, %s)")
            return
        path = directory / "anchor-append.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        source = sqlite3.connect(target.url)
        ddl = [sql for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (table,))]
        source.close()
        # Same pragmas as eventsourcing's connection: WAL, autocommit with explicit BEGIN.
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        for statement in ddl:
            self.conn.execute(statement)
        self.insert = f"INSERT INTO {table} ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?)"

    def append(self, rows: Sequence[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        if self.target.is_postgres:
            with self.conn.transaction(), self.conn.cursor() as cursor:
                cursor.executemany(self.insert, rows)
        else:
            self.conn.execute("BEGIN")
            self.conn.executemany(self.insert, rows)
            self.conn.execute("COMMIT")
        self.seconds += time.perf_counter() - started
        self.rows += len(rows)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def close(self) -> None:
        if self.target.is_postgres:
            with self.conn.transaction():
                self.conn.execute(f"DROP TABLE IF EXISTS {ANCHOR_TABLE}")
        self.conn.close()


def _raw_pages(target: Target, schema: str, table: str, limit: int | None,
               ) -> Iterator[Iterable[tuple[Any, ...]]]:
    columns = "originator_id, originator_version, topic, state FROM {} ORDER BY {}"
    if target.is_postgres:
        import psycopg

        qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
        query = "SELECT notification_id, " + columns.format(qualified, "notification_id")
        with psycopg.connect(target.url) as conn, conn.cursor(name="bench_raw_read") as cur:
            cur.itersize = 1000
            cur.execute(query + (f" LIMIT {int(limit)}" if limit else ""))
            while page := cur.fetchmany(1000):
                yield page
        return
    conn = sqlite3.connect(target.url)
    try:
        cur = conn.execute("SELECT rowid, " + columns.format(table, "rowid")
                           + (f" LIMIT {int(limit)}" if limit else ""))
        while page := cur.fetchmany(1000):
            yield page
    finally:
        conn.close()


def raw_read_decode(target: Target, schema: str, table: str,
                    limit: int | None = None) -> tuple[int, float]:
    """The rebuild anchor: read every stored event in order and `json.loads` its state."""
    started = time.perf_counter()
    count = 0
    for page in _raw_pages(target, schema, table, limit):
        for row in page:
            json.loads(row[4])
            count += 1
    return count, time.perf_counter() - started
