"""Consistent copies of a SQLite ledger while billers keep working (SQLite online backup)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the ledger file page by page; writers may continue meanwhile. Returns bytes written.

    The online backup API restarts when a writer changes a page it already copied, so the
    copy is a consistent snapshot at some instant, events and read models alike.
    """
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=1024)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise OSError(f"backup failed its integrity check: {check}")
        finally:
            dst.close()
    finally:
        src.close()
    tmp.replace(target)
    return target.stat().st_size
