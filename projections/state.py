"""Rows the fold works on: in memory, optionally read through from a store on a miss."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from projections.rows import Key, Row
from projections.schema import TABLE

Loader = Callable[[str, Key], Row | None]


def key_of(table: str, row: Row) -> Key:
    cols = TABLE[table].key
    return row[cols[0]] if len(cols) == 1 else tuple(row[c] for c in cols)


class RowCache:
    """A RowState: dimension rows by key plus the append-only rows of the current page.

    With a `loader`, a row not in memory is fetched from the store (and a miss is
    remembered), so a catch-up holds only what it touched; `flushed()` forgets the
    page's new rows once they are written and drops everything past `max_rows`.
    """

    def __init__(self, loader: Loader | None = None, max_rows: int = 50_000) -> None:
        self.loader = loader
        self.max_rows = max_rows
        self.rows: dict[str, dict[Key, Row | None]] = {}
        self.dirty: dict[str, dict[Key, Row]] = {}
        self.appended: dict[str, list[Row | tuple[Any, ...]]] = {}
        self.size = 0
        self.clear()

    def get(self, table: str, key: Key) -> Row | None:
        rows = self.rows[table]
        try:
            return rows[key]
        except KeyError:
            pass
        row = self.loader(table, key) if self.loader is not None else None
        rows[key] = row
        self.size += 1
        return row

    def prime(self, table: str, keys: Iterable[Key],
              load: Callable[[str, list[Key]], dict[Key, Row]]) -> None:
        """Fetch the rows of `keys` not in memory yet with one `load`, as `get` would one
        at a time (a key the store lacks is remembered as missing)."""
        rows = self.rows.get(table)
        if rows is None:
            rows = self.rows[table] = {}
        wanted = [key for key in dict.fromkeys(keys) if key not in rows]
        if not wanted:
            return
        found = load(table, wanted)
        for key in wanted:
            rows[key] = found.get(key)
        self.size += len(wanted)

    def put(self, table: str, key: Key, row: Row) -> None:
        rows = self.rows[table]
        if key not in rows:
            self.size += 1
        rows[key] = row
        self.dirty[table][key] = row

    def append(self, table: str, row: Row | tuple[Any, ...]) -> None:
        self.appended[table].append(row)

    def changes(self) -> Iterable[tuple[str, list[Row | tuple[Any, ...]]]]:
        """Per table, the rows to write: new append-only rows, then changed dimension rows."""
        for table, rows in self.appended.items():
            if rows:
                yield table, rows
        for table, changed in self.dirty.items():
            if changed:
                yield table, list(changed.values())

    def flushed(self) -> None:
        self.appended = {t: [] for t in TABLE}
        self.dirty = {t: {} for t in TABLE}
        if self.size > self.max_rows:
            self.clear()

    def clear(self) -> None:
        self.rows = {t: {} for t in TABLE}
        self.dirty = {t: {} for t in TABLE}
        self.appended = {t: [] for t in TABLE}
        self.size = 0


class MemoryState(RowCache):
    """Every row in memory: the pure fold's state for tests and scratch comparisons."""

    def __init__(self) -> None:
        super().__init__(loader=None, max_rows=1 << 62)
        self.kept: dict[str, dict[Key, Row]] = {}

    def append(self, table: str, row: Row | tuple[Any, ...]) -> None:
        if isinstance(row, tuple):
            row = dict(zip(TABLE[table].column_names, row, strict=True))
        self.kept.setdefault(table, {}).setdefault(key_of(table, row), row)

    def table(self, name: str) -> list[Row]:
        """A table's rows sorted by key, as the store would hold them."""
        rows: dict[Key, Any] = dict(self.kept.get(name, {}))
        rows.update({k: r for k, r in self.rows.get(name, {}).items() if r is not None})
        return [rows[k] for k in sorted(rows, key=lambda k: k if isinstance(k, tuple) else (k,))]
