"""A claimdesk command meeting read models of another version says so and exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from projections.store import ReadModelVersionError, SQLiteProjectionStore
from tests.builders import TODAY, register_patient, set_up_practice
from tui.cli import main


def test_a_rebuild_by_another_version_mid_command_is_a_clear_refusal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "ledger.sqlite3")
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(db).event_store_env(), actor="biller")
        set_up_practice(ledger)
        register_patient(ledger)
        ledger.close()

    def rebuilt_elsewhere(self: SQLiteProjectionStore) -> None:
        raise ReadModelVersionError("the read models are at schema version 7, this claimdesk "
                                    "writes version 6: ...; restart claimdesk (nothing was "
                                    "written)")

    monkeypatch.setattr(SQLiteProjectionStore, "_check_version", rebuilt_elsewhere)
    with freeze_time(TODAY):
        code = main(["--db", db, "account", "list", "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("claimdesk: the read models are at schema version 7")
    assert "Traceback" not in err
