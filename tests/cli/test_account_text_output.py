"""`claimdesk account list | show`: text from the ledger never reaches the terminal as control.

Registration now refuses control characters, but a ledger may hold names recorded before
that rule (or by an older importer): printed raw, `DOE ESC ]0;pwned BEL` set the terminal's
title. The plain-text printers write such characters out (`\\x1b`); --json escapes them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.services import registration
from domain.storage import resolve_store
from domain.text import written_out

OSC_TITLE = "DOE\x1b]0;pwned\x07"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ledger holding a name and an address recorded before control characters were refused."""
    path = str(tmp_path / "ledger.sqlite3")
    with monkeypatch.context() as before_the_rule, freeze_time("2025-03-10"):
        before_the_rule.setattr(registration, "check_text", lambda what, value: None)
        ledger = BillingLedger(env=resolve_store(path).event_store_env(), actor="registrar")
        ledger.register_patient(OSC_TITLE, "JANE\x9b2J", date(1971, 1, 1), "F",
                                account_no="MRN901", phone="555\x0712",
                                address={"line1": "1 ELM\x1b[2J", "city": "SPRINGFIELD"})
        ledger.close()
    return path


@pytest.fixture
def cli(db: str, capsys: pytest.CaptureFixture[str]) -> Any:
    from tui.cli import main

    def run(*args: str) -> str:
        code = main(["--db", db, "--as-user", "registrar", *args])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    return run


def controls(text: str) -> list[str]:
    return [c for c in text if (c < " " and c != "\n") or "\x7f" <= c <= "\x9f"]


def test_account_list_writes_control_characters_out(cli: Any) -> None:
    out = cli("account", "list", "--search", "MRN90")
    assert controls(out) == []
    assert "DOE\\x1b]0;PWNED\\x07, JANE\\x9b2J" in out


def test_account_show_writes_control_characters_out(cli: Any) -> None:
    out = cli("account", "show", "MRN901")
    assert controls(out) == []
    assert out.startswith("DOE\\x1b]0;PWNED\\x07, JANE\\x9b2J  account MRN901")
    assert "1 ELM\\x1b[2J" in out and "555\\x0712" in out


def test_json_keeps_the_name_as_recorded(cli: Any) -> None:
    out = cli("account", "list", "--search", "MRN90", "--json")
    assert controls(out) == []    # JSON escapes them itself
    assert json.loads(out)["accounts"][0]["name"] == f"{OSC_TITLE.upper()}, JANE\x9b2J"


def test_written_out_leaves_other_text_alone() -> None:
    assert written_out("SMITH [/JR] ÉÑ漢字💥") == "SMITH [/JR] ÉÑ漢字💥"
    assert written_out("\t\n\x00") == "\\x09\\x0a\\x00"
    assert written_out(None) == ""
