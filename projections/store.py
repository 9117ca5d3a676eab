"""Where the read models live: SQLite (beside the event table) or PostgreSQL, one SQL dialect.

A store writes a page of folded rows and the new tracking position in ONE transaction,
after checking that the position it started from is still the stored one: two processes
catching up at once cannot both apply the same page. Readers see either the rows before
a page or the rows after it, never half of one.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import orjson

from projections.rows import Key, Row
from projections.schema import (
    PREFIX,
    SCHEMA_VERSION,
    TABLE,
    TABLES,
    Table,
    create_statements,
    index_statements,
    table_names,
)
from projections.state import RowCache

# orjson writes the same text as json.dumps(separators=(",", ":"), ensure_ascii=False), ten
# times faster. Sorted keys for dimension rows: a row changed after a reload must encode
# exactly as one built in memory; append-only rows are built once, in their event's order.
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


class ProjectionStore(ABC):
    """The SQL both engines share; subclasses supply the connection and transactions."""

    dialect = "sql"
    # After a text ORDER BY term: order by code point, as SQLite and Python's sort do
    # (PostgreSQL's default follows the database's collation, where "a7" < "B7").
    by_code_point = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._sql_cache: dict[tuple[str, str], str] = {}

    # -- engine specifics ---------------------------------------------------------------------
    @abstractmethod
    def _cursor_execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; it holds the store's write lock until it ends."""

    @abstractmethod
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every query inside sees the same committed state."""

    @abstractmethod
    def close(self) -> None: ...

    def _lock_position_sql(self) -> str:
        return f"SELECT position FROM {PREFIX}tracking WHERE name = ?"

    def _schema_lock(self) -> None:
        """Serialise schema changes between processes (PostgreSQL needs it, SQLite has it)."""
        return

    # -- plain SQL ---------------------------------------------------------------------------
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return list(self._cursor_execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self.lock:
            row = self._cursor_execute(sql, params).fetchone()
            return None if row is None else tuple(row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.lock:
            self._cursor_execute(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    # -- schema ------------------------------------------------------------------------------
    def setup(self, name: str) -> None:
        """Create missing tables; rebuild from scratch when the schema version changed."""
        with self.lock, self._dropping(), self.transaction():
            self._schema_lock()
            # Indexes last: one on a column this version added fails on an older table.
            for statement in create_statements(indexes=False, dialect=self.dialect):
                self._cursor_execute(statement)
            version = self.scalar(f"SELECT value FROM {PREFIX}meta WHERE key = ?",
                                  ("schema_version",))
            if version not in (None, SCHEMA_VERSION):
                self._drop_all()
                for statement in create_statements(dialect=self.dialect):
                    self._cursor_execute(statement)
            for statement in index_statements():
                self._cursor_execute(statement)
            self._cursor_execute(
                f"INSERT INTO {PREFIX}meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value", ("schema_version", SCHEMA_VERSION))
            self._cursor_execute(
                f"INSERT INTO {PREFIX}tracking (name, position) VALUES (?, 0) "
                "ON CONFLICT (name) DO NOTHING", (name,))

    def _check_version(self) -> None:
        """Refuse to write rows of a schema the store no longer has (or not yet has).

        A workstation left open while a newer claimdesk rebuilt the read models (or the
        other way round) would fold its events with the other version's rules and leave
        columns it does not know empty; checked under the write's lock, once per page.
        """
        stored = self.scalar(f"SELECT value FROM {PREFIX}meta WHERE key = ?",
                             ("schema_version",))
        if stored != SCHEMA_VERSION:
            raise ReadModelVersionError(
                f"the read models are at schema version {stored}, this claimdesk writes "
                f"version {SCHEMA_VERSION}: another claimdesk version rebuilt them while "
                "this one was running; restart claimdesk (nothing was written)")

    def reset(self, name: str) -> None:
        """Drop every read model and recreate empty tables, secondary indexes left out."""
        with self.lock, self._dropping(), self.transaction():
            self._schema_lock()
            self._drop_all()
            for statement in create_statements(indexes=False, dialect=self.dialect):
                self._cursor_execute(statement)
            self._cursor_execute(f"INSERT INTO {PREFIX}meta (key, value) VALUES (?, ?)",
                                 ("schema_version", SCHEMA_VERSION))
            self._cursor_execute(
                f"INSERT INTO {PREFIX}tracking (name, position) VALUES (?, 0)", (name,))

    @contextmanager
    def bulk(self, *, cut_log: bool = True) -> Iterator[None]:
        """Settings for a rebuild from zero (nothing by default). `cut_log=False`: leave
        tidying up after it to whoever started the rebuild (a page writer does)."""
        yield

    @contextmanager
    def _dropping(self) -> Iterator[None]:
        """Settings for dropping every read model (nothing by default)."""
        yield

    def create_indexes(self) -> None:
        with self.lock, self.transaction():
            for statement in index_statements():
                self._cursor_execute(statement)

    def _drop_all(self) -> None:
        for name in table_names():
            self._cursor_execute(f"DROP TABLE IF EXISTS {name}")

    # -- tracking and rows -------------------------------------------------------------------
    def position(self, name: str) -> int:
        value = self.scalar(f"SELECT position FROM {PREFIX}tracking WHERE name = ?", (name,))
        return int(value or 0)

    def load_row(self, table: str, key: Key) -> Row | None:
        spec = TABLE[table]
        keys = key if isinstance(key, tuple) else (key,)
        where = " AND ".join(f"{c} = ?" for c in spec.key)
        found = self.fetchone(
            f"SELECT {', '.join(spec.column_names)} FROM {PREFIX}{table} WHERE {where}", keys)
        return None if found is None else decode_row(spec, found)

    def load_rows(self, table: str, keys: Sequence[Any]) -> dict[Any, Row]:
        """The rows of a one-column-key table with these keys, a few hundred per query."""
        spec = TABLE[table]
        (column,) = spec.key
        at = spec.column_names.index(column)
        select = f"SELECT {', '.join(spec.column_names)} FROM {PREFIX}{table} WHERE {column} IN "
        found: dict[Any, Row] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            # Decoded a chunk at a time: row by row, working out the JSON columns again for
            # each row took a third of the loading after a large 835.
            rows = self.fetchall(select + f"({', '.join('?' * len(chunk))})", chunk)
            for values, row in zip(rows, decode_rows(spec, rows), strict=True):
                found[values[at]] = row
        return found

    def write(self, cache: RowCache, name: str, expected: int, position: int) -> bool:
        """Write the cache's changes and the new position, if nobody moved it meanwhile."""
        return self.write_encoded(name, expected, position, encode_changes(cache))

    def write_encoded(self, name: str, expected: int, position: int,
                      changes: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> bool:
        """`write` of rows encoded already (`encode_rows`), per table in `changes`."""
        try:
            with self.lock, self.transaction():
                current = self.fetchone(self._lock_position_sql(), (name,))
                self._check_version()
                if current is None or int(current[0]) != expected:
                    raise _Moved
                for table, rows in changes:
                    self._write_rows(TABLE[table], rows)
                self._cursor_execute(
                    f"UPDATE {PREFIX}tracking SET position = ? WHERE name = ?", (position, name))
        except _Moved:
            return False
        return True

    def _write_rows(self, spec: Table, rows: Sequence[Sequence[Any]]) -> None:
        """Insert (append), insert-or-ignore (set) or upsert (dim) one table's rows."""
        self._executemany(self._insert_sql(spec), rows)

    def _insert_sql(self, spec: Table) -> str:
        cached = self._sql_cache.get((spec.name, spec.mode))
        if cached is not None:
            return cached
        cols = spec.column_names
        sql = (f"INSERT INTO {PREFIX}{spec.name} ({', '.join(cols)}) "
               f"VALUES ({', '.join('?' * len(cols))})")
        if spec.mode == "set":
            sql += f" ON CONFLICT ({', '.join(spec.key)}) DO NOTHING"
        elif spec.mode == "dim":
            updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in spec.key)
            sql += f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}"
        self._sql_cache[(spec.name, spec.mode)] = sql
        return sql

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM {PREFIX}{table}") or 0)

    def iter_rows(self, table: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """Every row of a table in key order (the engine's order), in batches."""
        spec = TABLE[table]
        order = ", ".join(spec.key)
        sql = f"SELECT {', '.join(spec.column_names)} FROM {PREFIX}{table} ORDER BY {order}"
        with self.lock:
            cursor = self._cursor_execute(sql)
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield from (tuple(r) for r in rows)


class ReadModelVersionError(RuntimeError):
    """The read models belong to another claimdesk version than this process's."""


class _Moved(Exception):
    """Another process wrote a page first; the caller starts again from the new position."""


def encode_changes(cache: RowCache) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The cache's changed rows as `write_encoded` takes them, per table."""
    return [(table, encode_rows(TABLE[table], rows)) for table, rows in cache.changes()]


def encode_row(spec: Table, row: Row | tuple[Any, ...]) -> tuple[Any, ...]:
    return encode_rows(spec, [row])[0]


def encode_rows(spec: Table, rows: Sequence[Row | tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as the column-ordered tuples the SQL takes, JSON columns as text."""
    encoder = _ENCODERS.get(spec.name)
    if encoder is None:
        encoder = _ENCODERS[spec.name] = _rows_encoder(spec)
    return encoder(rows)


def dict_values(spec: Table, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """Dict rows as column-ordered tuples, their JSON values left as they are: a page
    writer's rows travel this way (no column names per row) and are `encode_values`d."""
    return list(map(_GETTERS[spec.name], rows))


def encode_values(spec: Table, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """`encode_rows` of dict rows that arrive as `dict_values` (JSON columns as text)."""
    positions = _JSON_POSITIONS[spec.name]
    return [_with_json_text(values, positions, _SORTED) for values in rows]


def _with_json_text(values: Sequence[Any], positions: tuple[int, ...],
                    option: int) -> tuple[Any, ...]:
    """`values` as a tuple, the JSON columns at `positions` dumped to text (None stays)."""
    if not positions:
        return tuple(values)
    listed = list(values)
    for i in positions:
        if listed[i] is not None:
            listed[i] = orjson.dumps(listed[i], option=option).decode()
    return tuple(listed)


def _row_getter(spec: Table) -> Callable[[Row], tuple[Any, ...]]:
    columns = spec.column_names
    if len(columns) == 1:   # itemgetter of one key gives the value, not a 1-tuple
        return lambda row: (row[columns[0]],)
    return itemgetter(*columns)


_Encoder = Callable[[Sequence[Row | tuple[Any, ...]]], list[tuple[Any, ...]]]


def _rows_encoder(spec: Table) -> _Encoder:
    getter = _GETTERS[spec.name]
    positions = _JSON_POSITIONS[spec.name]
    once, sort = orjson.OPT_NON_STR_KEYS, _SORTED   # see _SORTED

    def encode(rows: Sequence[Row | tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        out = []
        for row in rows:
            if type(row) is tuple:   # append-only rows arrive in column order already
                out.append(_with_json_text(row, positions, once) if positions else row)
            else:
                out.append(_with_json_text(getter(cast(Row, row)), positions, sort))
        return out
    return encode


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (value.replace("\\", "\\\\").replace("\t", "\\t")
                    .replace("\n", "\\n").replace("\r", "\\r"))
        return value
    if isinstance(value, (bytes, memoryview)):
        return "\\\\x" + bytes(value).hex()
    return str(value)


_ENCODERS: dict[str, _Encoder] = {}
_GETTERS = {t.name: _row_getter(t) for t in TABLES}
_JSON_POSITIONS = {t.name: tuple(i for i, c in enumerate(t.column_names) if c in t.json_columns)
                   for t in TABLES}


def decode_row(spec: Table, values: Sequence[Any], columns: Sequence[str] = ()) -> Row:
    """A stored row as the fold wrote it: JSON columns decoded (`columns`: those selected)."""
    return decode_rows(spec, [values], columns)[0]


def decode_rows(spec: Table, rows: Sequence[Sequence[Any]],
                columns: Sequence[str] = ()) -> list[Row]:
    """`decode_row` of many rows: which columns need decoding is worked out once."""
    names = tuple(columns or spec.column_names)
    json_cols = [c for c in names if c in spec.json_columns]
    blob_cols = [c for c in names if c in _BLOB_COLUMNS[spec.name]]
    out = []
    loads = orjson.loads
    for values in rows:
        row = dict(zip(names, values, strict=True))
        for c in json_cols:
            v = row[c]
            if v is not None:
                row[c] = loads(v)
        for c in blob_cols:
            if isinstance(row[c], memoryview):   # PostgreSQL's bytea
                row[c] = bytes(row[c])
        out.append(row)
    return out


_BLOB_COLUMNS = {t.name: frozenset(c for c, kind in t.columns if kind == "blob") for t in TABLES}


BULK_CHECKPOINT_PAGES = 100_000


class SQLiteProjectionStore(ProjectionStore):
    """Read models in a SQLite file (normally the event store's own file), WAL mode."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, scratch: bool = False) -> None:
        import sqlite3  # noqa: PLC0415 - only this adapter touches the sqlite3 module

        import sqlite_utils  # noqa: PLC0415

        super().__init__()
        self.path = str(path)
        self.scratch = scratch
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30)
        self.db = sqlite_utils.Database(conn)
        if scratch:
            # A file thrown away afterwards (never the ledger's): no syncs, no write-ahead log.
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
        else:
            if self.path != ":memory:":
                self.db.enable_wal()  # type: ignore[no-untyped-call]
            # WAL + NORMAL is crash-safe; a read model lost to a power cut is rebuilt anyway.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")
        self.conn = conn

    def _cursor_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            if self.conn.in_transaction:  # nested: the outer transaction decides
                yield
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def _dropping(self) -> Iterator[None]:
        # SQLite as Debian builds it zeroes every freed page (SECURE_DELETE), so a DROP wrote
        # the whole of the old read models through the WAL again: 85% of reset's time. FAST
        # still clears what it rewrites anyway. The freed pages only copy what the events in
        # this same file hold, and the rebuild that follows reuses them at once.
        (before,) = self.conn.execute("PRAGMA secure_delete").fetchone()
        self.conn.execute("PRAGMA secure_delete = FAST")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA secure_delete = {int(before)}")

    @contextmanager
    def bulk(self, *, cut_log: bool = True) -> Iterator[None]:
        # Checkpoint the WAL every ~400 MB instead of every 4 MB while rebuilding, then put
        # back whatever interval the connection had (not SQLite's default). Each checkpoint
        # syncs the file twice: every 40 MB, that was a sixth of a rebuild's writing time
        # (1.6M events: 17.6 s of writes, 14.7 s this way; every 800 MB did no better).
        # The log is cut back to nothing afterwards rather than left at its largest.
        (before,) = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
            if (cut_log and not self.conn.in_transaction and self.path != ":memory:"
                    and not self.scratch):
                self._cut_log()

    def _cut_log(self) -> None:
        """Checkpoint and empty the WAL if nobody is reading it; never wait for that."""
        import sqlite3  # noqa: PLC0415 - as in __init__

        (waited,) = self.conn.execute("PRAGMA busy_timeout").fetchone()
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:
            pass   # busy: a later checkpoint reuses the log from its start instead
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(waited)}")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                # A deferred transaction takes its snapshot at the first read.
                self.conn.execute(f"SELECT COUNT(*) FROM {PREFIX}tracking").fetchone()
                yield
            finally:
                self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class PostgresProjectionStore(ProjectionStore):
    """Read models as rm_ tables in the event store's PostgreSQL database."""

    dialect = "postgres"
    by_code_point = ' COLLATE "C"'

    def __init__(self, url: str, schema: str | None = None) -> None:
        import psycopg  # noqa: PLC0415 - optional until a PostgreSQL ledger is used

        super().__init__()
        self.url = url
        conninfo = url if schema is None else psycopg.conninfo.make_conninfo(
            url, options=f"-c search_path={schema}")
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.schema = schema
        self._sql: dict[str, str] = {}

    def _convert(self, sql: str) -> str:
        converted = self._sql.get(sql)
        if converted is None:
            converted = self._sql[sql] = sql.replace("?", "%s")
        return converted

    def _cursor_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(self._convert(sql), tuple(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(self._convert(sql), rows)

    def _lock_position_sql(self) -> str:
        return super()._lock_position_sql() + " FOR UPDATE"

    def _write_rows(self, spec: Table, rows: Sequence[Sequence[Any]]) -> None:
        # COPY, not executemany: one round trip and no per-row statement, which is what
        # makes a rebuild on PostgreSQL keep pace (several times faster with this driver).
        # Keyed tables go through a session-local staging table and one INSERT ... SELECT.
        cols = ", ".join(spec.column_names)
        if spec.mode == "append":
            self._copy(f"{PREFIX}{spec.name}", cols, rows)
            return
        stage = f"{PREFIX}stage_{spec.name}"
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
                          f"(LIKE {PREFIX}{spec.name}) ON COMMIT DELETE ROWS")
        self._copy(stage, cols, rows)
        conflict = f"ON CONFLICT ({', '.join(spec.key)}) DO NOTHING"
        if spec.mode == "dim":
            updates = ", ".join(f"{c} = excluded.{c}" for c in spec.column_names
                                if c not in spec.key)
            conflict = f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}"
        self.conn.execute(f"INSERT INTO {PREFIX}{spec.name} ({cols}) "
                          f"SELECT {cols} FROM {stage} {conflict}")

    def _copy(self, table: str, cols: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor, cursor.copy(
                f"COPY {table} ({cols}) FROM STDIN") as copy:
            copy.write("".join(["\t".join(map(_copy_text, row)) + "\n" for row in rows]))

    def _schema_lock(self) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(727274)")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock, self.conn.transaction():
            yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.lock, self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    def iter_rows(self, table: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        # A server-side cursor: a million postings must not land in memory at once.
        spec = TABLE[table]
        sql = (f"SELECT {', '.join(spec.column_names)} FROM {PREFIX}{table} "
               f"ORDER BY {', '.join(spec.key)}")
        with self.lock, self.conn.transaction(), self.conn.cursor(
                name=f"rows_{table}_{id(self):x}") as cursor:
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield from (tuple(r) for r in rows)

    def close(self) -> None:
        self.conn.close()


__all__ = ["TABLES", "PostgresProjectionStore", "ProjectionStore", "ReadModelVersionError",
           "SQLiteProjectionStore"]
