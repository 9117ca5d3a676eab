"""Bad input on the command line is refused with one line on stderr, never a traceback.

A refused command records nothing; the ledger (a demo-style one: one user per role, open,
"today" frozen to 2025-03-10) keeps its event count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

QUEUES = ("unbilled", "ready", "rejected", "denials", "no-response", "timely-filing",
          "underpaid", "credit-balances", "delinquent", "collections", "eligibility")


@pytest.fixture
def cli(office: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Any:
    """cli(*args, user=...) -> (exit code, stdout, stderr)."""
    from tui.cli import main

    def run(*args: str, user: str = "supervisor") -> tuple[int, str, str]:
        monkeypatch.setenv("CLAIMDESK_USER", user)
        try:
            code = main(["--db", office["db"], *args])
        except SystemExit as stop:   # argparse refuses before main's handlers run
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def event_count(cli: Any) -> int:
    code, out, err = cli("events", "count", "--json")
    assert code == 0, err
    return int(json.loads(out)["events"])


def refused(cli: Any, *args: str, user: str = "supervisor") -> str:
    """Run a command that must be refused: exit 2, nothing on stdout, no traceback."""
    code, out, err = cli(*args, user=user)
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    return err


# -- as-of dates: a sane range at the boundary; the read models work at both ends ----------------
class TestDateRange:
    @pytest.mark.parametrize("args", [
        ("report", "kpis", "--as-of", "0001-01-01"),
        ("queue", "no-response", "--as-of", "0001-01-01"),
        ("queue", "timely-filing", "--as-of", "0001-01-01"),
        ("queue", "timely-filing", "--as-of", "9999-12-31"),
        ("worklist", "--all", "--as-of", "9999-12-31"),
        ("supervisor", "report", "--as-of", "9999-12-31"),
        ("supervisor", "report", "--as-of", "1899-12-31"),
        ("report", "aging", "--as-of", "2200-01-01"),
    ])
    def test_an_as_of_date_out_of_range_is_refused(self, cli: Any, args: tuple[str, ...]) -> None:
        err = refused(cli, *args, "--json")
        assert "is outside the dates claimdesk accepts (1900-01-01 to 2199-12-31)" in err

    @pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T12:00"])
    def test_a_known_at_instant_out_of_range_is_refused_by_its_own_message(
            self, cli: Any, when: str) -> None:
        err = refused(cli, "report", "aging", "--known-at", when)
        assert "argument --known-at:" in err and "is outside the dates" in err

    @pytest.mark.parametrize("day", ["1900-01-01", "2199-12-31"])
    def test_every_report_and_queue_answers_at_the_ends_of_the_range(
            self, cli: Any, day: str) -> None:
        commands = [("report", "kpis"), ("report", "aging"), ("worklist", "--all"),
                    ("supervisor", "report"), ("collections", "candidates"),
                    *(("queue", name) for name in QUEUES)]
        for command in commands:
            code, out, err = cli(*command, "--as-of", day, "--json")
            assert code == 0, (command, err)
            json.loads(out)
        code, _, err = cli("report", "aging", "--known-at", f"{day}T12:00", "--json")
        assert code == 0, err


# -- report kpis --period-days ------------------------------------------------------------------
@pytest.mark.parametrize("days", ["0", "-5", "ninety"])
def test_a_kpi_period_that_is_not_a_positive_number_is_refused(cli: Any, days: str) -> None:
    err = refused(cli, "report", "kpis", f"--period-days={days}", "--json")
    assert "argument --period-days:" in err


def test_a_kpi_period_of_one_day_or_a_century_answers(cli: Any) -> None:
    for days in ("1", "36500"):
        code, out, err = cli("report", "kpis", "--period-days", days, "--as-of", "1900-01-01",
                             "--json")
        assert code == 0, err
        assert json.loads(out)["period_days"] == int(days)


# -- output files: checked before anything is recorded --------------------------------------------
MISSING = "/nonexistent/claimdesk-qa/dir"


class TestOutputFiles:
    @pytest.mark.parametrize("args", [
        ("eligibility", "request", "--out", f"{MISSING}/x.270"),
        ("claims", "status-request", "--out", f"{MISSING}/x.276"),
        ("letters", "dunning", "{roe}", "--pdf", f"{MISSING}/x.pdf"),
        ("letters", "pre-collection", "{roe}", "--pdf", f"{MISSING}/x.pdf"),
        ("appeal", "letter", "{claim}", "--pdf", f"{MISSING}/x.pdf"),
    ])
    def test_a_file_in_a_missing_directory_is_refused_and_nothing_is_recorded(
            self, cli: Any, office: dict[str, str], args: tuple[str, ...]) -> None:
        if args[0] == "appeal":
            code, _, err = cli("appeal", "file", office["claim"], "--level", "reconsideration",
                               "--argument", "on file")
            assert code == 0, err
        before = event_count(cli)
        err = refused(cli, *(a.format(**office) for a in args))
        assert err == (f"claimdesk: cannot write {MISSING}/x.{args[-1][-3:]}: "
                       f"the directory {MISSING} does not exist\n")
        assert event_count(cli) == before

    def test_a_directory_as_the_file_is_refused(self, cli: Any, office: dict[str, str],
                                                tmp_path: Path) -> None:
        before = event_count(cli)
        err = refused(cli, "letters", "dunning", office["roe"], "--pdf", str(tmp_path))
        assert "it is a directory" in err
        assert event_count(cli) == before

    def test_a_dunning_letter_issued_can_be_exported_again_with_existing(
            self, cli: Any, office: dict[str, str], tmp_path: Path) -> None:
        refused(cli, "letters", "dunning", office["roe"], "--existing")   # none issued yet
        first = tmp_path / "first.pdf"
        code, out, err = cli("letters", "dunning", office["roe"], "--pdf", str(first), "--json")
        assert code == 0, err
        issued = json.loads(out)
        after = event_count(cli)
        refused(cli, "letters", "dunning", office["roe"])   # already issued for the statement
        again = tmp_path / "again.pdf"
        code, out, err = cli("letters", "dunning", office["roe"], "--existing", "--pdf",
                             str(again), "--json", user="auditor")
        assert code == 0, err
        assert json.loads(out) == {**issued, "pdf": str(again)}
        assert again.read_bytes() == first.read_bytes()
        # Only the PHI access log grows: no letter is issued.
        code, out, _ = cli("follow-up", "history", office["roe"], "--json")
        assert [e["event_type"] for e in json.loads(out)["events"]].count(
            "FollowUpLetterIssued") == 1
        assert event_count(cli) - after <= 2
        refused(cli, "letters", "pre-collection", office["roe"], "--existing")


def test_claims_submit_into_a_missing_directory_records_no_submission(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from freezegun import freeze_time

    from tests.importers.practice_837 import build_practice
    from tui.cli import main

    with freeze_time("2025-01-20 10:30:00"):
        practice = build_practice(tmp_path / "ledger.db")
        before = practice.ledger.events_count()
        code = main(["--db", str(tmp_path / "ledger.db"), "claims", "submit", "--out",
                     f"{MISSING}/batch.837"])
        captured = capsys.readouterr()
        assert code == 2 and captured.out == ""
        assert captured.err == (f"claimdesk: cannot write {MISSING}/batch.837: "
                                f"the directory {MISSING} does not exist\n")
        assert practice.ledger.events_count() == before
        assert {practice.ledger.claim(c).state.value for c in practice.claims.values()} == {
            "ready"}


# -- queue --sort --------------------------------------------------------------------------------
class TestQueueSort:
    @staticmethod
    def amounts(cli: Any, *args: str) -> list[int]:
        code, out, err = cli("queue", "denials", *args, "--json")
        assert code == 0, err
        return [row["amount_cents"] for row in json.loads(out)["items"]]

    def test_desc_and_a_leading_dash_after_the_equals_sign_sort_descending(
            self, cli: Any) -> None:
        ascending = self.amounts(cli, "--sort", "amount_cents")
        assert ascending == sorted(ascending)
        assert self.amounts(cli, "--sort", "amount_cents", "--desc") == ascending[::-1]
        assert self.amounts(cli, "--sort=-amount_cents") == ascending[::-1]

    @pytest.mark.parametrize("field", ["bogus", "lines"])
    def test_a_field_the_rows_cannot_be_sorted_by_is_refused_naming_those_they_can(
            self, cli: Any, field: str) -> None:
        err = refused(cli, "queue", "denials", "--sort", field)
        assert f"the denials queue cannot be sorted by {field!r}" in err
        assert "sort by one of: group, carc" in err and "amount_cents" in err

    def test_a_sql_queue_refuses_an_unknown_field_too(self, cli: Any) -> None:
        err = refused(cli, "queue", "unbilled", "--sort", "bogus", "--as-of", "2025-03-10")
        assert "cannot be sorted by 'bogus'" in err

    @pytest.mark.parametrize("option", ["--limit=-1", "--offset=-3"])
    def test_a_negative_page_is_refused(self, cli: Any, option: str) -> None:
        assert "give a whole number of at least 0" in refused(cli, "queue", "denials", option)


# -- follow-up history ---------------------------------------------------------------------------
@pytest.mark.parametrize(("item", "message"), [
    ("bogus", "Not found: no claim bogus"),
    ("claim:NOPE", "Not found: no claim NOPE"),
    ("account:NOPE", "Not found: no account NOPE"),
    ("foo:bar", "must be claim:CLAIM_ID or account:ACCOUNT_NO"),
])
def test_the_history_of_an_item_that_does_not_exist_is_refused_as_log_is(
        cli: Any, item: str, message: str) -> None:
    assert message in refused(cli, "follow-up", "history", item, "--json")
    assert message in refused(cli, "follow-up", "log", item, "--outcome", "left-message")


def test_the_history_of_an_item_nobody_worked_yet_is_empty(
        cli: Any, office: dict[str, str]) -> None:
    code, out, err = cli("follow-up", "history", office["claim"], "--json")
    assert code == 0, err
    assert json.loads(out) == {"item": f"claim:{office['claim']}", "events": []}


# -- a ledger that cannot be opened ---------------------------------------------------------------
def run_on(db: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    """Run claimdesk on `db`: (exit code, stderr, seconds)."""
    import time

    from tui.cli import main

    started = time.monotonic()
    code = main(["--db", db, *args])
    took = time.monotonic() - started
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return code, captured.err, took


class TestLedgerThatCannotBeOpened:
    @pytest.mark.parametrize(("make", "reason"), [
        (lambda p: p.mkdir(), "it is a directory, not a ledger file"),
        (lambda p: p.write_text("not a ledger\n"), "the file is not a SQLite database"),
    ])
    @pytest.mark.parametrize("command", [("events", "count"), ()])   # () is the workstation
    def test_a_directory_or_another_file_is_told_at_once(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, reason: str,
            command: tuple[str, ...]) -> None:
        db = tmp_path / "ledger.sqlite3"
        make(db)
        code, err, took = run_on(str(db), *command, capsys=capsys)
        assert (code, err) == (2, f"claimdesk: cannot open the ledger at {db}: {reason}\n")
        assert took < 5

    def test_a_path_under_a_file_is_told(self, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        (tmp_path / "file").write_text("x")
        code, err, _ = run_on(str(tmp_path / "file" / "ledger.sqlite3"), "events", "count",
                              capsys=capsys)
        assert code == 2 and f"{tmp_path / 'file'} is not a directory" in err

    def test_a_file_that_cannot_be_created_is_told_at_once(
            self, capsys: pytest.CaptureFixture[str]) -> None:
        code, err, took = run_on("/proc/claimdesk-ledger.sqlite3", "events", "count",
                                 capsys=capsys)
        assert code == 2 and "cannot open the ledger at /proc/claimdesk-ledger.sqlite3: " \
            "cannot create the file" in err
        assert took < 5

    def test_a_read_only_directory_without_the_wal_files_is_told(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> None:
        from domain import storage
        from domain.application import BillingLedger

        db = tmp_path / "ledger.sqlite3"
        BillingLedger(env=storage.resolve_store(str(db)).event_store_env()).close()
        for suffix in ("-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        real_access = storage.os.access
        # root ignores modes: the directory is made read-only for this check alone.
        monkeypatch.setattr(storage.os, "access", lambda path, mode: (
            False if Path(path) == tmp_path and mode & storage.os.W_OK
            else real_access(path, mode)))
        code, err, _ = run_on(str(db), "events", "count", capsys=capsys)
        assert code == 2
        assert f"the directory {tmp_path} is not writable" in err

    def test_a_postgresql_server_that_refuses_is_told_at_once_without_the_password(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        import socket

        with socket.socket() as probe:   # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"postgresql://clerk:s3cret@127.0.0.1:{port}/ledger"
        for command in (("events", "count"), ("migrate", "--to", url)):
            db = url if command[0] == "events" else str(tmp_path / "source.sqlite3")
            code, err, took = run_on(db, *command, capsys=capsys)
            assert code == 2 and took < 5, err
            assert err.startswith("claimdesk: cannot open the ledger at postgresql://")
            assert "s3cret" not in err and "Connection refused" in err
