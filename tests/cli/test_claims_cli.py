"""`claimdesk claims ...` and `claimdesk sandbox adjudicate`: the 837P loop from a shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.claim import ClaimState
from importers.x12.writer import validate
from tests.importers.practice_837 import PRIMARY, Practice, build_practice, segments_of


@pytest.fixture
def practice(tmp_path: Path) -> Iterator[Practice]:
    with freeze_time("2025-01-20 10:30:00"):
        yield build_practice(tmp_path / "ledger.db")


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `claimdesk --db <the practice's ledger> ...`; returns (exit code, stdout, stderr)."""
    from tui.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", str(tmp_path / "ledger.db"), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def run_json(cli: Any, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


class TestSubmit:
    def test_submit_writes_one_valid_interchange_and_marks_the_claims(
            self, practice: Practice, cli: Any, tmp_path: Path) -> None:
        out = tmp_path / "batch.837"
        doc = run_json(cli, "claims", "submit", "--out", str(out))
        assert doc["claims"] == 2 and doc["charge_cents"] == 200_00 + 170_00
        assert doc["file"] == str(out) and doc["validation"] == "OK" and doc["held"] == {}
        assert validate(out).ok
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
        for claim_id in practice.claims.values():
            claim = practice.ledger.claim(claim_id)
            assert claim.state is ClaimState.SUBMITTED
            assert claim.submissions[0]["batch_id"] == doc["batch_id"]
        again = run_json(cli, "claims", "submit", "--out", str(tmp_path / "none.837"))
        assert again == {**again, "claims": 0, "charge_cents": 0, "file": None}
        assert not (tmp_path / "none.837").exists()

    def test_submit_for_one_payer_and_test_usage(self, practice: Practice, cli: Any,
                                                 tmp_path: Path) -> None:
        out = tmp_path / "acme.837"
        doc = run_json(cli, "claims", "submit", "--payer", PRIMARY, "--out", str(out),
                       "--test", "--sender-id", "ACMEBILL", "--receiver-id", "CH1")
        assert doc["claims"] == 2
        isa = segments_of(out.read_text())[0]
        assert isa[6].strip() == "ACMEBILL" and isa[8].strip() == "CH1" and isa[15] == "T"

    def test_an_existing_file_is_never_overwritten(self, practice: Practice, cli: Any,
                                                   tmp_path: Path) -> None:
        out = tmp_path / "batch.837"
        out.write_text("sent yesterday")
        code, _, err = cli("claims", "submit", "--out", str(out))
        assert code == 2 and "already exists" in err
        assert out.read_text() == "sent yesterday"
        assert practice.ledger.claim(practice.claims["john"]).state is ClaimState.READY

    def test_a_claim_that_cannot_be_written_is_held_and_reported(
            self, practice: Practice, cli: Any, tmp_path: Path) -> None:
        ledger = practice.ledger
        account = ledger.register_patient("Poe", "Ed", date(1990, 1, 1), "M")
        ledger.add_coverage(account, PRIMARY, "ACMEPPO", "W9", effective_on=date(2024, 1, 1))
        encounter = ledger.open_encounter(account, date(2025, 1, 15), billing_npi="1234567893",
                                          diagnoses=["I10"])
        ledger.enter_charge(encounter, "99213")
        held = ledger.create_claim(encounter)
        ledger.scrub_claim(held)
        code, out, _ = cli("claims", "submit", "--out", str(tmp_path / "b.837"))
        assert code == 0
        assert f"held {held} (back to draft): patient street address is missing" in out
        assert ledger.claim(held).state is ClaimState.DRAFT


class TestScrub:
    def test_scrub_shows_each_problem_and_a_supervisor_can_override_timely_filing(
            self, practice: Practice, cli: Any) -> None:
        with freeze_time("2026-03-01"):
            code, out, _ = cli("claims", "scrub", "--all")
            assert code == 1
            for claim_id in practice.claims.values():
                assert f"{claim_id}: 1 problem" in out
            assert "  - timely filing deadline 2026-01-10 has passed" in out
            john = practice.claims["john"]
            doc = json.loads(cli("claims", "override-filing-limit", john, "--reason",
                                 "277CA proof of timely filing", "--json")[1])
            assert doc == {"claims": [{"claim_id": john, "ready": True, "problems": []}],
                           "ready": 1, "not_ready": 0}
            code, out, _ = cli("claims", "scrub", practice.claims["amy"], john)
            assert code == 1 and f"{john}: ready" in out
        assert practice.ledger.claim(john).override["reason"] == "277CA proof of timely filing"

    def test_scrub_needs_claims_or_all(self, practice: Practice, cli: Any) -> None:
        code, _, err = cli("claims", "scrub")
        assert code == 2 and "--all" in err

    def test_create_then_scrub_a_claim(self, practice: Practice, cli: Any) -> None:
        ledger = practice.ledger
        encounter = ledger.open_encounter(practice.accounts["john"], date(2025, 1, 15),
                                          billing_npi="1234567893", diagnoses=["I10"])
        ledger.enter_charge(encounter, "99213")
        doc = run_json(cli, "claims", "create", encounter)
        assert doc["payer_id"] == PRIMARY and doc["charge_cents"] == 110_00
        scrub = run_json(cli, "claims", "scrub", doc["claim_id"])
        assert scrub["ready"] == 1


class TestCorrectionsAndSandbox:
    def test_submit_adjudicate_import_then_correct_and_void(
            self, practice: Practice, cli: Any, tmp_path: Path) -> None:
        ledger = practice.ledger
        run_json(cli, "claims", "submit", "--out", str(tmp_path / "1.837"))
        doc = run_json(cli, "sandbox", "adjudicate", str(tmp_path / "1.837"), "--out",
                       str(tmp_path / "1.835"), "--seed", "1")
        assert doc["claims"] == 2 and doc["paid_cents"] == 104_00 + 88_00
        assert validate(tmp_path / "1.835").ok
        from importers.remittance_import import import_835_file

        assert import_835_file(ledger, tmp_path / "1.835").status == "posted"
        john, amy = practice.claims["john"], practice.claims["amy"]
        assert run_json(cli, "claims", "correct", john, "--reason", "modifier")["ready"] == 1
        void = run_json(cli, "claims", "void", amy, "--reason", "wrong patient")
        assert void["frequency"] == "8" and void["state"] == "ready"
        doc = run_json(cli, "claims", "submit", "--out", str(tmp_path / "2.837"))
        assert doc["claims"] == 2
        clms = {s[1]: s[5] for s in segments_of((tmp_path / "2.837").read_text())
                if s[0] == "CLM"}
        assert clms == {john: "11:B:7", amy: "11:B:8"}
        shown = run_json(cli, "claims", "show", john)
        assert shown["frequency"] == "7" and len(shown["submissions"]) == 2

    def test_sandbox_refuses_what_is_not_an_837p(self, practice: Practice, cli: Any,
                                                 tmp_path: Path) -> None:
        code, _, err = cli("sandbox", "adjudicate",
                           "/work/shared/domain-examples/835_min.x12", "--out",
                           str(tmp_path / "x.835"))
        assert code == 2 and "not an 837P" in err
        assert not (tmp_path / "x.835").exists()
