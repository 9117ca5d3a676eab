"""A read-only ledger or a full disk: a clear message, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from domain.application import BillingLedger
from domain.errors import StorageError
from domain.storage import resolve_store


def test_a_read_only_ledger_refuses_with_a_clear_message(
        tmp_path: Path, frozen_clock: object) -> None:
    path = tmp_path / "ro.sqlite3"
    ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
    ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
    ledger.close()
    os.chmod(path, 0o444)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            os.chmod(extra, 0o444)
    env = resolve_store(str(path)).event_store_env()
    if os.geteuid() == 0:
        # root ignores file modes; a read-only open is what a read-only mount gives root.
        env["SQLITE_DBNAME"] = f"file:{path}?mode=ro"
    reader = BillingLedger(env=env, actor="t")
    with pytest.raises(StorageError, match="nothing was recorded"):
        reader.register_patient("DOE", "JOHN", date(1980, 1, 1), "M")


@pytest.mark.skipif(sys.platform != "linux", reason="uses a size-limited process (RLIMIT_FSIZE)")
def test_a_full_disk_records_nothing(tmp_path: Path) -> None:
    """The write is cut off by a file-size limit, as a full disk would; the ledger stays whole."""
    path = tmp_path / "full.sqlite3"
    script = f"""
import resource, signal, sys
from datetime import date
from freezegun import freeze_time
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from domain.application import BillingLedger
from domain.errors import StorageError
from domain.storage import resolve_store
with freeze_time("2025-03-10"):
    ledger = BillingLedger(env=resolve_store({str(path)!r}).event_store_env(), actor="t")
    ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
    size = max(p.stat().st_size for p in __import__("pathlib").Path({str(tmp_path)!r}).glob("*"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, size + 4096))
    try:
        for n in range(2000):
            ledger.register_patient("DOE", "X" * 2000 + str(n), date(1980, 1, 1), "F")
    except StorageError as error:
        print("REFUSED", error)
        sys.exit(0)
print("NEVER FILLED")
sys.exit(1)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=Path(__file__).resolve().parents[2], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing was recorded" in result.stdout
    ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
    count = ledger.events_count()
    # Every event that was recorded reads back: no torn write.
    assert len(list(ledger.iter_notifications())) == count
    from domain.services.core import chain_break

    assert chain_break(ledger) is None
