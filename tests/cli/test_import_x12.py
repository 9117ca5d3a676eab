"""`claimdesk import 835|999|277ca`: JSON per file, exit status, dry runs, the shared group."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import TODAY, open_visit, register_patient, set_up_practice
from tests.importers.test_acks import ack_277ca, ack_999

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "domain-examples"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
MIN = str(EXAMPLES / "835_min.x12")
OLD_4010 = str(CORPUS / "tigershark" / "835-example.txt")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A ledger with DOMAIN §4's claim PCN20250115001 submitted (batch B1, ST02 0001)."""
    path = tmp_path / "ledger.db"
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="biller",
                               seed=7)
        set_up_practice(ledger)
        visit = open_visit(ledger, register_patient(ledger))
        claim_id = ledger.create_claim(visit.encounter_id, claim_id="PCN20250115001")
        assert ledger.scrub_claim(claim_id) == []
        ledger.mark_submitted([claim_id], batch_id="B1", interchange_control="000000101",
                              transaction_controls={claim_id: "0001"})
        ledger.close()
        yield path


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `claimdesk --db <ledger> ...`; returns (exit code, stdout, stderr)."""
    from tui.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with freeze_time(TODAY):
            code = main(["--db", str(db), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def events_in(db: Path) -> int:
    ledger = BillingLedger(env=resolve_store(str(db)).event_store_env(), actor="biller")
    try:
        return ledger.events_count()
    finally:
        ledger.close()


class TestImport835:
    def test_json_names_every_promised_field_and_a_second_import_is_already_posted(
        self, cli: Any, db: Path,
    ) -> None:
        code, out, _ = cli("import", "835", MIN, "--json")
        doc = json.loads(out)
        assert code == 0
        assert {k: doc[k] for k in ("file", "status", "payment_cents", "claims", "matched",
                                    "unmatched", "unapplied_cents", "message")} == {
            "file": MIN, "status": "posted", "payment_cents": 8000, "claims": 1,
            "matched": 1, "unmatched": 0, "unapplied_cents": 0, "message": ""}
        assert doc["events"] == 9
        before = events_in(db)
        code, out, _ = cli("import", "835", MIN, "--json")
        again = json.loads(out)
        assert (code, again["status"], again["events"]) == (0, "already-posted", 0)
        assert events_in(db) == before

    def test_the_read_models_hold_the_payment_when_the_import_returns(
        self, cli: Any, db: Path,
    ) -> None:
        from projections.store import SQLiteProjectionStore

        code, out, _ = cli("import", "835", MIN, "--json")
        assert (code, json.loads(out)["status"]) == (0, "posted")
        store = SQLiteProjectionStore(db)
        try:
            assert store.scalar("SELECT position FROM rm_tracking") == events_in(db)
            assert store.scalar("SELECT paid_cents FROM rm_claims WHERE claim_id = ?",
                                ("PCN20250115001",)) == 8000
        finally:
            store.close()
        code, out, _ = cli("verify", "--json")
        assert (code, json.loads(out)["ok"]) == (0, True)

    def test_a_refused_file_makes_the_exit_status_non_zero_and_says_why(
        self, cli: Any, db: Path,
    ) -> None:
        before = events_in(db)
        code, out, _ = cli("import", "835", OLD_4010, MIN, "--json")
        old, new = json.loads(out)
        assert code == 1
        assert (old["status"], old["events"]) == ("refused", 0)
        assert "unsupported version 004010X091A1" in old["message"]
        assert new["status"] == "posted"
        assert events_in(db) == before + new["events"]

    def test_a_dry_run_prints_claim_by_claim_and_writes_nothing(
        self, cli: Any, db: Path,
    ) -> None:
        before = events_in(db)
        code, out, _ = cli("import", "835", MIN, "--dry-run")
        assert code == 0 and events_in(db) == before
        assert "would post: payment $80.00, 1 claim(s), 1 matched" in out
        assert ("claim PCN20250115001 (CLP02 1, paid): paid $80.00, written off $70.00, to "
                "PATIENT $50.00; balances after: PATIENT $50.00") in out

    def test_without_json_a_refusal_is_told_on_stderr_with_its_reason(self, cli: Any) -> None:
        code, out, err = cli("import", "835", OLD_4010, MIN)
        assert code == 1
        assert "refused" in err and "unsupported version" in err and "835_min" not in err
        assert "refused" not in out and "posted: payment $80.00" in out

    def test_a_missing_file_is_an_error_not_a_crash(self, cli: Any, tmp_path: Path) -> None:
        code, _, err = cli("import", "835", str(tmp_path / "nope.835"))
        assert code == 2 and "cannot read" in err


class TestImportAcknowledgements:
    def test_a_999_accepts_the_claims_of_the_set_it_names(
        self, cli: Any, db: Path, tmp_path: Path,
    ) -> None:
        path = tmp_path / "batch.999"
        path.write_bytes(ack_999(("0001", "A", ()), group="101"))
        code, out, _ = cli("import", "999", str(path), "--json")
        doc = json.loads(out)
        assert (code, doc["status"], doc["kind"], doc["accepted"], doc["unknown"]) == (
            0, "posted", "999", ["PCN20250115001"], [])
        code, out, _ = cli("import", "999", str(path))
        assert code == 0 and "already-posted" in out

    def test_a_277ca_rejection_is_printed_with_the_claim(
        self, cli: Any, tmp_path: Path,
    ) -> None:
        path = tmp_path / "batch.277"
        path.write_bytes(ack_277ca(("PCN20250115001", "A7:562:85", ""), ("ZZZ9", "A2:20", "")))
        code, out, _ = cli("import", "277ca", str(path))
        assert code == 0
        assert "1 rejected, 1 unknown" in out and "rejected: PCN20250115001" in out

    def test_a_file_of_the_wrong_kind_is_refused(self, cli: Any) -> None:
        raw = CORPUS / "imsweb-x12-parser/837_5010/x12_999_rejected.txt"
        code, out, _ = cli("import", "277ca", str(raw), "--json")
        doc = json.loads(out)
        assert code == 1 and doc["status"] == "refused"
        assert "this is a 999, not a 277CA" in doc["message"]


def test_other_modules_add_their_subcommands_to_the_same_import_group() -> None:
    from tui.cli import imports_x12
    from tui.cli.import_group import import_subparsers

    parser = argparse.ArgumentParser(prog="claimdesk")
    subparsers = parser.add_subparsers(dest="command")
    imports_x12.register(subparsers)
    group = import_subparsers(subparsers)
    assert import_subparsers(subparsers) is group
    other = group.add_parser("patients")
    other.add_argument("file")
    args = parser.parse_args(["import", "patients", "p.csv"])
    assert (args.command, args.import_command, args.file) == ("import", "patients", "p.csv")
    assert parser.parse_args(["import", "835", "a.835"]).import_command == "835"
