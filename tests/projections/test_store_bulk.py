"""The SQLite store's bulk mode puts the WAL checkpoint interval back as it found it, and
leaves no large write-ahead log behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from projections.store import BULK_CHECKPOINT_PAGES, SQLiteProjectionStore


def interval(store: SQLiteProjectionStore) -> int:
    (pages,) = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    return int(pages)


@pytest.mark.parametrize("before", [1000, 250, 0])
def test_bulk_restores_the_interval_it_found(tmp_path: Path, before: int) -> None:
    store = SQLiteProjectionStore(tmp_path / "rm.sqlite3")
    try:
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {before}")
        with store.bulk():
            assert interval(store) == BULK_CHECKPOINT_PAGES
        assert interval(store) == before
        with pytest.raises(RuntimeError), store.bulk():
            raise RuntimeError("a rebuild failed")
        assert interval(store) == before
    finally:
        store.close()


def wal_bytes(store: SQLiteProjectionStore) -> int:
    wal = Path(store.path + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_bulk_empties_the_log_it_grew_unless_someone_is_reading(tmp_path: Path) -> None:
    store = SQLiteProjectionStore(tmp_path / "rm.sqlite3")
    reader = sqlite3.connect(store.path)
    try:
        store.execute("CREATE TABLE t (x BLOB)")
        with store.bulk():
            for _ in range(200):
                store.execute("INSERT INTO t VALUES (randomblob(4000))")
        assert wal_bytes(store) == 0

        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM t").fetchone()   # holds a snapshot
        with store.bulk():
            store.execute("INSERT INTO t VALUES (randomblob(4000))")
        # Not waited for: the log stays until a later checkpoint, and the reader reads on.
        assert wal_bytes(store) > 0
        assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (200,)
    finally:
        reader.close()
        store.close()
