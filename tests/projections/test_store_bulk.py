"""The SQLite store's bulk mode puts the WAL checkpoint interval back as it found it."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.store import SQLiteProjectionStore


def interval(store: SQLiteProjectionStore) -> int:
    (pages,) = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    return int(pages)


@pytest.mark.parametrize("before", [1000, 250, 0])
def test_bulk_restores_the_interval_it_found(tmp_path: Path, before: int) -> None:
    store = SQLiteProjectionStore(tmp_path / "rm.sqlite3")
    try:
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {before}")
        with store.bulk():
            assert interval(store) == 10000
        assert interval(store) == before
        with pytest.raises(RuntimeError), store.bulk():
            raise RuntimeError("a rebuild failed")
        assert interval(store) == before
    finally:
        store.close()
