"""`claimdesk report | queue | verify | projections | statements | collections` end to end."""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from tests.builders import (
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)
from tui.cli import reports
from tui.cli.context import CliError, Context, run_handler


def claimdesk(db: Path, *argv: str) -> tuple[int, Any]:
    """Run one command of this group as `claimdesk --db DB ...` does; (exit code, JSON)."""
    parser = argparse.ArgumentParser(prog="claimdesk")
    reports.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    context = Context(db=str(db), as_user=None)
    try:
        return run_handler(args, context), None
    finally:
        context.close()


@pytest.fixture
def run(ledger_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def go(*argv: str, code: int = 0) -> Any:
        exit_code, _ = claimdesk(ledger_path, *argv)
        out = capsys.readouterr().out
        assert exit_code == code, out
        return json.loads(out) if "--json" in argv else out
    return go


@pytest.fixture
def patient_owes(ledger: BillingLedger, practice: Practice) -> str:
    account = register_patient(ledger)
    claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))
    return account


def test_report_aging_json_has_the_issue_3_shape(run: Any, patient_owes: str) -> None:
    report = run("report", "aging", "--as-of", "2025-03-10", "--by", "payer", "--json")

    assert report["as_of"] == "2025-03-10" and report["basis"] == "dos"
    assert report["total_cents"] == 5_000
    assert list(report["buckets"]) == ["0-30", "31-60", "61-90", "91-120", "121+"]
    assert report["buckets"]["31-60"] == {
        "insurance_cents": 0, "patient_cents": 5_000, "agency_cents": 0}
    assert [g["payer_id"] for g in report["by"]] == ["PATIENT"]
    earlier = run("report", "aging", "--as-of", "2025-01-31", "--known-at",
                  "2025-03-10T12:00:00+00:00", "--basis", "billed", "--json")
    assert earlier["buckets"]["0-30"]["insurance_cents"] == 20_000
    assert "0-30" in run("report", "aging", "--as-of", "2025-03-10")


def test_report_kpis_and_queues(run: Any, patient_owes: str) -> None:
    kpis = run("report", "kpis", "--as-of", "2025-03-10", "--json")
    assert (kpis["gross_charges_cents"], kpis["payments_cents"]) == (20_000, 8_000)

    listing = run("queue", "--list", "--json")
    assert [q["name"] for q in listing["queues"]][:3] == ["unbilled", "ready", "rejected"]
    assert "timely-filing" in run("queue", "--list")
    delinquent = run("queue", "delinquent", "--as-of", "2025-03-10", "--json")
    assert (delinquent["name"], delinquent["count"], delinquent["items"]) == (
        "delinquent", 0, [])
    assert "0 rows" in run("queue", "unbilled", "--as-of", "2025-03-10")


def test_an_unknown_queue_is_an_error_on_stderr(ledger_path: Path, practice: Practice) -> None:
    with pytest.raises(CliError, match="no queue 'nope'"):
        claimdesk(ledger_path, "queue", "nope")


def test_verify_exits_0_when_equal_and_1_naming_the_altered_row(
        run: Any, patient_owes: str, ledger_path: Path) -> None:
    ok = run("verify", "--json")
    assert (ok["ok"], ok["first_difference"], ok["chain_break"]) == (True, None, None)
    with sqlite3.connect(ledger_path) as conn:
        conn.execute(f"UPDATE rm_accounts SET name = 'X' WHERE account_no = '{patient_owes}'")

    bad = run("verify", "--json", code=1)

    assert bad["first_difference"] == (
        f"table rm_accounts row {patient_owes} column name: live 'X' != rebuilt 'DOE, JOHN'")
    assert "DIFFER" in run("verify", code=1)
    rebuilt = run("projections", "rebuild", "--json")
    assert rebuilt["events"] == rebuilt["position"] > 0
    assert run("verify", "--json")["ok"] is True


def test_statements_run_issues_through_the_ledger(run: Any, patient_owes: str,
                                                  ledger: BillingLedger) -> None:
    preview = run("statements", "run", "--as-of", "2025-03-10", "--all-cycles", "--dry-run",
                  "--json")
    assert [c["guarantor_account_no"] for c in preview["candidates"]] == [patient_owes]
    assert preview["issued"] == []

    done = run("statements", "run", "--as-of", "2025-03-10", "--all-cycles", "--json")

    assert [(i["guarantor_account_no"], i["dunning_level"], i["balance_cents"])
            for i in done["issued"]] == [(patient_owes, 1, 5_000)]
    assert [s["issued_on"] for s in ledger.account(patient_owes).statements] == [
        date(2025, 3, 10)]
    again = run("statements", "run", "--as-of", "2025-03-10", "--all-cycles", "--json")
    assert again["issued"] == [] and again["held"][0]["reason"].startswith("statement issued")


def test_collections_candidates_and_referral(run: Any, patient_owes: str,
                                             ledger: BillingLedger,
                                             frozen_clock: FrozenDateTimeFactory) -> None:
    for issued in ("2025-03-10", "2025-04-10", "2025-05-10"):
        frozen_clock.move_to(issued)
        ledger.issue_statement(patient_owes)
    frozen_clock.move_to("2025-07-08")

    found = run("collections", "candidates", "--json")

    assert found["min_balance_cents"] == 2_500
    assert [c["guarantor_account_no"] for c in found["candidates"]] == [patient_owes]
    referred = run("collections", "refer", patient_owes, "--agency", "ACME COLLECT",
                   "--approved-by", "supervisor", "--json")
    assert {k: referred[k] for k in ("account_no", "agency", "referred_cents",
                                     "approved_by", "referred_on")} == {
        "account_no": patient_owes, "agency": "ACME COLLECT", "referred_cents": 5_000,
        "approved_by": "supervisor", "referred_on": "2025-07-08"}
    assert run("collections", "candidates", "--json")["candidates"] == []


def test_the_group_is_registered_in_the_claimdesk_command(
        ledger_path: Path, practice: Practice, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    argv: Sequence[str] = ("--db", str(ledger_path), "queue", "--list", "--json")
    assert main(list(argv)) == 0
    assert json.loads(capsys.readouterr().out)["queues"][0]["name"] == "unbilled"
