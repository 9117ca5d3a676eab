"""`claimdesk demo` then `claimdesk account ...`, run as a user would: the real console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

THROUGH = "2025-06-30"
PATIENTS = 12


def claimdesk(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `claimdesk` script (or the package's main) in a fresh process."""
    script = Path(sys.executable).with_name("claimdesk")
    command = ([str(script)] if script.exists() else
               [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"])
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMDESK_DB", "CLAIMDESK_USER")}
    return subprocess.run([*command, "--db", str(db), *args], capture_output=True, text=True,
                          env=env, timeout=240, check=False)


def as_json(db: Path, *args: str) -> Any:
    done = claimdesk(db, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small demo ledger, its `demo --json` answer and `events count` right after it."""
    db = tmp_path_factory.mktemp("demo") / "ledger.sqlite3"
    counts = as_json(db, "demo", "--patients", str(PATIENTS), "--seed", "3",
                     "--through", THROUGH)
    events = as_json(db, "events", "count")
    return {"db": db, "counts": counts, "events": events}


def test_demo_reports_its_counts_and_events_count_agrees(demo: dict[str, Any]) -> None:
    counts = demo["counts"]
    assert set(counts) == {"patients", "claims", "events"}
    assert counts["patients"] == PATIENTS
    assert counts["claims"] > PATIENTS
    assert demo["events"] == {"events": counts["events"]}


def test_every_account_show_agrees_with_its_history(demo: dict[str, Any]) -> None:
    db = demo["db"]
    accounts = as_json(db, "account", "list")["accounts"]
    assert len(accounts) == PATIENTS
    assert any(a["balance_cents"] for a in accounts)
    for listed in accounts:
        account_no = listed["account_no"]
        shown = as_json(db, "account", "show", account_no)
        history = as_json(db, "account", "history", account_no)
        assert history["account_no"] == account_no
        events = history["events"]
        assert events, f"{account_no} has no history"
        running = 0
        for event in events:
            assert {"type", "effective_date", "recorded_at", "actor", "amount_cents",
                    "balance_cents"} <= set(event)
            running += event["amount_cents"]
            assert event["balance_cents"] == running
        assert shown["balance_cents"] == events[-1]["balance_cents"], account_no
        assert shown["balance_cents"] == (
            shown["insurance_cents"] + shown["patient_cents"] + shown["agency_cents"])
        assert listed["balance_cents"] == shown["balance_cents"]


def test_as_of_an_earlier_date_matches_history_to_that_date(demo: dict[str, Any]) -> None:
    db = demo["db"]
    accounts = as_json(db, "account", "list")["accounts"]
    busy = max(accounts, key=lambda a: abs(a["balance_cents"]))["account_no"]
    as_of = "2025-01-31"
    shown = as_json(db, "account", "show", busy, "--as-of", as_of)
    events = as_json(db, "account", "history", busy, "--as-of", as_of)["events"]
    assert all(e["effective_date"] is None or e["effective_date"] <= as_of for e in events)
    assert shown["balance_cents"] == (events[-1]["balance_cents"] if events else 0)
    assert shown["as_of"] == as_of


def test_plain_text_output_is_a_readable_table(demo: dict[str, Any]) -> None:
    db = demo["db"]
    listing = claimdesk(db, "account", "list")
    assert listing.returncode == 0, listing.stderr
    header = listing.stdout.splitlines()[0].split()
    assert header[:2] == ["ACCOUNT", "NAME"] and "BALANCE" in header
    assert listing.stdout.rstrip().endswith(f"{PATIENTS} accounts")
    account_no = listing.stdout.splitlines()[2].split()[0]
    shown = claimdesk(db, "account", "show", account_no)
    assert shown.returncode == 0 and account_no in shown.stdout and "Balance $" in shown.stdout
    history = claimdesk(db, "account", "history", account_no)
    assert history.returncode == 0 and "Registered" in history.stdout


class TestRefusals:
    def test_unknown_account(self, demo: dict[str, Any]) -> None:
        for sub in ("show", "history"):
            done = claimdesk(demo["db"], "account", sub, "A00000000", "--json")
            assert done.returncode != 0
            assert done.stdout == ""
            assert "no account A00000000" in done.stderr

    def test_bad_date(self, demo: dict[str, Any]) -> None:
        done = claimdesk(demo["db"], "account", "show", "A00000000", "--as-of", "2025-13-01")
        assert done.returncode == 2
        assert "not a date" in done.stderr

    def test_demo_refuses_a_ledger_with_events(self, demo: dict[str, Any]) -> None:
        before = as_json(demo["db"], "events", "count")
        done = claimdesk(demo["db"], "demo", "--patients", "2", "--json")
        assert done.returncode == 2
        assert "already holds" in done.stderr and done.stdout == ""
        assert as_json(demo["db"], "events", "count") == before

    def test_demo_refuses_a_future_through_date(self, tmp_path: Path) -> None:
        done = claimdesk(tmp_path / "new.sqlite3", "demo", "--through", "2999-01-01")
        assert done.returncode == 2 and "in the future" in done.stderr

    @pytest.mark.parametrize("patients", ["0", "many"])
    def test_demo_refuses_a_bad_patient_count(self, tmp_path: Path, patients: str) -> None:
        done = claimdesk(tmp_path / "new.sqlite3", "demo", "--patients", patients)
        assert done.returncode == 2 and "--patients" in done.stderr
        assert not (tmp_path / "new.sqlite3").exists()


def test_the_console_script_is_installed() -> None:
    # The README tells users to run `claimdesk`; make sure the venv really has it.
    assert shutil.which("claimdesk", path=str(Path(sys.executable).parent))
