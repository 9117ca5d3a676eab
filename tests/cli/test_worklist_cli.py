"""`claimdesk worklist | assign | follow-up | appeal | letters | supervisor` from a shell.

Each command runs in-process as the user named by CLAIMDESK_USER, on a demo-style ledger
(one user per role, open) with "today" frozen to 2025-03-10.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory


@pytest.fixture
def cli(office: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Any:
    """cli(user, *args) -> (exit code, stdout, stderr)."""
    from tui.cli import main

    def run(user: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("CLAIMDESK_USER", user)
        code = main(["--db", office["db"], *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def as_json(cli: Any, user: str, *args: str) -> Any:
    code, out, err = cli(user, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_day_of_work_from_the_shell(cli: Any, office: dict[str, str], tmp_path: Path,
                                      frozen_clock: FrozenDateTimeFactory) -> None:
    claim, roe = f"claim:{office['claim']}", f"account:{office['roe']}"
    pool = as_json(cli, "supervisor", "worklist", "--unassigned")
    assert [i["item"] for i in pool["items"]] == [claim, roe]   # value x age
    picked = as_json(cli, "supervisor", "assign", "--to", "biller", "--rule",
                     "queue=denials", "--dry-run")
    assert picked == {"to": "biller", "rule": "queue=denials", "items": [claim],
                      "assigned": False}
    assert as_json(cli, "supervisor", "assign", "--to", "biller", "--rule",
                   "queue=denials")["items"] == [claim]
    assert as_json(cli, "supervisor", "assign", office["roe"], "--to", "biller")["items"] == [
        roe]
    mine = as_json(cli, "biller", "worklist")
    assert mine["user"] == "biller" and [i["item"] for i in mine["items"]] == [claim, roe]

    logged = as_json(cli, "biller", "follow-up", "log", roe, "--outcome", "promise-to-pay",
                     "--promise-date", "2025-03-20", "--promise-amount", "20.00",
                     "--note", "pays Friday")
    assert logged == {"activity_id": f"{office['roe']}-1", "item": roe,
                      "outcome": "promise-to-pay", "next_action_on": "2025-03-21"}
    filed = as_json(cli, "biller", "appeal", "file", office["claim"], "--level",
                    "reconsideration", "--argument", "Authorization AUTH-778 was on file.")
    assert filed["deadline"] == "2025-07-31" and filed["deadline_basis"] == (
        "contract K1: 180 days")
    pdf = tmp_path / "appeal.pdf"
    letter = as_json(cli, "biller", "appeal", "letter", office["claim"], "--pdf", str(pdf))
    assert office["claim"] in letter["text"] and "AUTH-778" in letter["text"]
    assert pdf.read_bytes().startswith(b"%PDF") and office["claim"].encode() in pdf.read_bytes()
    code, out, _ = cli("auditor", "appeal", "letter", office["claim"], "--existing")
    assert code == 0 and f"sha256 {letter['sha256']}" in out
    assert as_json(cli, "biller", "worklist") == {**mine, "count": 0, "total_cents": 0,
                                                  "waiting": 2, "items": []}

    frozen_clock.move_to(date(2025, 3, 21))
    back = as_json(cli, "biller", "worklist")
    assert [(i["item"], i["status"]) for i in back["items"]] == [(roe, "promise-broken")]
    report = as_json(cli, "supervisor", "supervisor", "report")
    assert report["worked_per_day"] == [
        {"user": "biller", "day": "2025-03-10", "items": 2, "actions": 3}]
    assert report["promises"][0]["broken"] == 1
    code, out, _ = cli("supervisor", "supervisor", "report")
    assert code == 0 and "Items worked per day" in out and "biller" in out

    notice = tmp_path / "notice.pdf"
    sent = as_json(cli, "biller", "letters", "pre-collection", office["roe"], "--pdf",
                   str(notice))
    assert sent["kind"] == "pre-collection" and notice.read_bytes().startswith(b"%PDF")
    decided = as_json(cli, "biller", "appeal", "decide", office["claim"], "--outcome",
                      "overturned")
    assert decided == {"appeal_id": f"{office['claim']}-A1", "outcome": "overturned"}
    [appeal] = as_json(cli, "auditor", "appeal", "list")["appeals"]
    assert (appeal["outcome"], appeal["letter_sha256"]) == ("overturned", letter["sha256"])
    history = as_json(cli, "auditor", "follow-up", "history", roe)["events"]
    assert [h["event_type"] for h in history] == [
        "WorkAssigned", "ActivityLogged", "FollowUpLetterIssued"]


def test_every_action_is_refused_for_the_wrong_role_with_a_clear_message(
        cli: Any, office: dict[str, str]) -> None:
    claim, roe = office["claim"], office["roe"]
    refusals = [
        ("biller", ["assign", claim, "--to", "biller"],
         "assign work needs the supervisor role; biller has the biller role"),
        ("auditor", ["unassign", claim], "unassign work needs the supervisor role"),
        ("auditor", ["follow-up", "log", roe, "--outcome", "left-message"],
         "log follow up needs the biller or supervisor role; auditor has the auditor role"),
        ("registrar", ["follow-up", "log", roe, "--outcome", "left-message"],
         "registrar has the registrar role"),
        ("registrar", ["appeal", "file", claim, "--level", "reconsideration", "--argument",
                       "x"], "file appeal needs the biller or supervisor role"),
        ("auditor", ["appeal", "letter", claim], "generate appeal letter needs the biller"),
        ("auditor", ["appeal", "decide", claim, "--outcome", "upheld"],
         "decide appeal needs the biller"),
        ("auditor", ["letters", "dunning", roe], "issue follow up letter needs the biller"),
    ]
    for user, args, message in refusals:
        code, out, err = cli(user, *args)
        assert code == 2, (user, args, out)
        assert err.startswith("claimdesk: Permission denied: ") and message in err, err
    code, _, err = cli("supervisor", "assign", claim, "--to", "auditor")
    assert code == 2 and "auditor has the auditor role; work goes to billers" in err
    code, _, err = cli("supervisor", "assign", "--to", "biller", "--rule", "colour=red")
    assert code == 2 and "unknown rule part 'colour'" in err
