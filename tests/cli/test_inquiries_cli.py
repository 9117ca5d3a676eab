"""`claimdesk eligibility request`, `claims status-request`, `import 271|277` and the sandbox's
`eligibility`/`status`: the whole inquiry loop through the command line, offline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.importers.practice_837 import build_practice

TODAY = date(2025, 3, 10)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """John (his own subscriber, seen 2025-01-10) and Amy (a dependent with two policies, seen
    2025-01-12); both claims submitted on 2025-01-15."""
    path = tmp_path / "ledger.db"
    with freeze_time(TODAY):
        practice = build_practice(path)
        ledger = practice.ledger
        for who, claim_id in practice.claims.items():
            ledger.mark_submitted([claim_id], batch_id=f"B{who.upper()}",
                                  submitted_on=date(2025, 1, 15),
                                  interchange_control="000000101",
                                  transaction_controls={claim_id: "0001"})
        ledger.close()
    return path


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    from tui.cli import main

    def run(*args: str) -> tuple[int, Any, str]:
        with freeze_time(TODAY):
            code = main(["--db", str(db), *args])
        captured = capsys.readouterr()
        out: Any = captured.out
        if out.startswith(("{", "[")):
            out = json.loads(captured.out)
        return code, out, captured.err

    return run


def ledger_of(db: Path) -> BillingLedger:
    return BillingLedger(env=resolve_store(str(db)).event_store_env(), actor="biller")


def test_eligibility_loop_through_the_sandbox(cli: Any, db: Path, tmp_path: Path) -> None:
    request, answer = tmp_path / "amy.270", tmp_path / "amy.271"
    code, doc, err = cli("eligibility", "request", "--date", "2025-01-12", "--out",
                         str(request), "--json")
    assert code == 0, err
    assert doc["validation"] == "OK" and len(doc["requests"]) == 2   # primary and secondary
    assert doc["interchange_control"] == "900000001"
    code, doc, err = cli("sandbox", "eligibility", str(request), "--out", str(answer), "--json")
    assert code == 0, err
    assert [a["answer"] for a in doc["answers"]] == ["active", "active"]
    code, doc, err = cli("import", "271", str(answer), "--json")
    assert code == 0, err
    assert doc["status"] == "posted" and doc["matched"] == 2 and doc["unmatched"] == []
    ledger = ledger_of(db)
    amy = ledger.account(doc["changes"][0]["account_no"])
    checks = list(amy.eligibility.values())
    assert len(checks) == 2 and all(c["active"] for c in checks)
    assert all(c["trace_number"].startswith("E900000001") for c in checks)
    assert all(c["plan_name"] for c in checks)
    events = ledger.events_count()
    ledger.close()
    code, doc, err = cli("import", "271", str(answer), "--json")
    assert code == 0 and doc["status"] == "already-posted"
    ledger = ledger_of(db)
    assert ledger.events_count() == events
    ledger.close()


def test_claim_status_loop_through_the_sandbox(cli: Any, db: Path, tmp_path: Path) -> None:
    request, answer = tmp_path / "s.276", tmp_path / "s.277"
    code, doc, err = cli("claims", "status-request", "--out", str(request), "--json")
    assert code == 0, err
    assert len(doc["requests"]) == 2 and doc["validation"] == "OK"
    code, doc, err = cli("sandbox", "status", str(request), "--out", str(answer), "--json")
    assert code == 0, err
    assert {a["status"] for a in doc["answers"]} == {"P1:20"}
    code, doc, err = cli("import", "277", str(answer), "--json")
    assert code == 0, err
    assert doc["matched"] == 2
    assert {c["state"] for c in doc["changes"]} == {"accepted"}


def test_4010_271_is_refused_with_exit_1(cli: Any) -> None:
    corpus = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
    code, doc, _ = cli("import", "271", str(corpus / "tigershark" / "271-example.txt"),
                       "--json")
    assert code == 1
    assert doc["status"] == "refused" and "unsupported version 004010X092A1" in doc["message"]
